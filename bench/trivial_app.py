"""The reference for the browser benchmark: one slider, one Plotly chart."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

value = st.slider("Value", 0, 60, 0, key="v")
x = np.linspace(0, 10, 401)
fig = go.Figure(go.Scatter(x=x, y=np.sin(x + value), name=f"value {value}"))
fig.update_layout(title=f"value {value}", showlegend=True)
st.plotly_chart(fig, key="chart")
