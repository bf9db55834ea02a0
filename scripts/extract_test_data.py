"""Cut the small real-file extracts in tests/data/ from the full public downloads.

Usage: python scripts/extract_test_data.py SOURCE_DIR [OUT_DIR]

SOURCE_DIR holds the NASA FIRMS global 24 h MODIS C6 files
``MODIS_C6_Global_24h_2017-05-01.csv`` and ``MODIS_C6_Global_24h_2020-10-02.csv`` and the CNEMC
station list ``cnemc_station_list_2026stations_utf8.csv``; OUT_DIR defaults to tests/data.

Lines are copied byte for byte (no re-formatting), in their original order:

* FIRMS: every detection in lon 112-124, lat 33-39 (Shandong and its neighbours), plus every
  1000th line of the global file (detections elsewhere, both satellites, day and night).
* CNEMC: every station of 山东省, plus the first 10 lines (Beijing).
"""

import sys
from pathlib import Path

FIRMS = ("MODIS_C6_Global_24h_2017-05-01.csv", "MODIS_C6_Global_24h_2020-10-02.csv")
CNEMC = "cnemc_station_list_2026stations_utf8.csv"
BOX = (112.0, 33.0, 124.0, 39.0)  # lon min, lat min, lon max, lat max
EVERY = 1000


def extract_firms(src: Path, out: Path) -> int:
    lines = src.read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    cols = header.decode().strip().split(",")
    ilat, ilon = cols.index("latitude"), cols.index("longitude")
    keep = []
    for i, line in enumerate(rows):
        f = line.decode().split(",")
        lat, lon = float(f[ilat]), float(f[ilon])
        if (BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3]) or i % EVERY == 0:
            keep.append(line)
    out.write_bytes(header + b"".join(keep))
    return len(keep)


def extract_cnemc(src: Path, out: Path) -> int:
    lines = src.read_bytes().splitlines(keepends=True)
    keep = [ln for i, ln in enumerate(lines[1:]) if i < 10 or ",山东省," in ln.decode()]
    out.write_bytes(lines[0] + b"".join(keep))
    return len(keep)


def main(argv: list[str]) -> None:
    src = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "tests/data"
    (out / "firms").mkdir(parents=True, exist_ok=True)
    for name in FIRMS:
        print(name, extract_firms(src / name, out / "firms" / name), "rows")
    print(CNEMC, extract_cnemc(src / CNEMC, out / CNEMC), "rows")


if __name__ == "__main__":
    main(sys.argv[1:])
