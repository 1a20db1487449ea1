"""The site around the potlines and the refinery: alumina silo, fume treatment, power, carbon plant,
casthouse and linings. Each is a small bookkeeping model the park advances once per output interval."""
