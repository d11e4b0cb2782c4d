"""Streamlit entry point: ``streamlit run app.py`` (the pages live in creditindex/ui/)."""

from creditindex.ui.shell import main

main()
