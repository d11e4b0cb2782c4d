"""Streamlit entry point: ``streamlit run app.py`` (the pages live in creditindex/ui/).

Run by Streamlit as the page script it draws the app; imported by ``streamlit run`` as
the server's module, it makes the server (an ``st.App``) load the app's code when it
starts instead of on its first visitor's page (:mod:`creditindex.ui.startup`).
"""

import streamlit as st

if __name__ == "__main__":
    from creditindex.ui.shell import main

    main()
else:
    from creditindex.ui.startup import lifespan

    app = st.App("app.py", lifespan=lifespan)
