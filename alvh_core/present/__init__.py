"""What the pages and the command line show: figures (the only Plotly code), share links, the trade ticket, the
articles' claims."""
