"""Streamlit helpers shared by the dashboard's pages: state, sidebar, charts, views."""
