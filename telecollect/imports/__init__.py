"""Reading tabular files (CSV or XLSX) row by row, shared by every import."""
