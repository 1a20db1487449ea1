"""Plant configurations (TOML). Installed as the package ``twin.configs`` so the reference park ships with alutwin."""
