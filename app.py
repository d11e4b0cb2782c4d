"""Streamlit entry point (placeholder until the front end lands)."""

import streamlit as st

st.set_page_config(page_title="公共资源交易信用指数", layout="wide")
st.title("公共资源交易信用指数 · Credit index")
st.write("Run `creditindex compute --on YYYY-MM-DD --records data/sample/records.csv`.")
