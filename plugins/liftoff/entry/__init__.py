"""The sales entry app's logic (apps/entry is only its Streamlit pages): the form and the
CSV upload checked by the ``Sale`` contract and pushed to ``raw_entry.sales``, and the
dashboards' reads of gold."""
