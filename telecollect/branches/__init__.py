"""Branches (Kantor Cabang) and the regional deputies (Kedeputian Wilayah) they answer to."""
