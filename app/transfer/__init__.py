"""Import of locations, contacts and appointments from CSV/XLSX, and exports of the lists."""
