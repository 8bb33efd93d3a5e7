"""ReportLab side of bench_letters: draws the same laid-out letters (text runs and lines at
the same positions, DejaVu Sans / Bold embedded as subsets) into one PDF and prints timings.

Usage: python3 bench_reportlab.py LAYOUT.jsonl FONT_DIR OUT.pdf
Only drawing and saving is timed; reading the layout JSON is not.
"""
import io
import json
import os
import statistics
import sys
import time

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = 210 * mm, 297 * mm


def draw(pages, out):
    c = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H))
    c.setTitle("Serienbrief Terminerinnerung")
    for items in pages:
        for it in items:
            if "l" in it:
                x1, y1, x2, y2 = it["l"]
                c.setLineWidth(it["w"] * mm)
                c.line(x1 * mm, PAGE_H - y1 * mm, x2 * mm, PAGE_H - y2 * mm)
            else:
                c.setFillGray(0.3 if it["g"] else 0.0)
                c.setFont("DejaVuSans-Bold" if it["b"] else "DejaVuSans", it["s"])
                c.drawString(it["x"] * mm, PAGE_H - it["y"] * mm, it["t"])
        c.showPage()
    c.save()


def main():
    layout, font_dir, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    pdfmetrics.registerFont(TTFont("DejaVuSans", os.path.join(font_dir, "DejaVuSans.ttf")))
    pdfmetrics.registerFont(
        TTFont("DejaVuSans-Bold", os.path.join(font_dir, "DejaVuSans-Bold.ttf"))
    )
    with open(layout, encoding="utf-8") as f:
        pages = [json.loads(line) for line in f if line.strip()]
    draw(pages[:1], io.BytesIO())  # warm-up
    times = []
    data = b""
    for _ in range(3):
        buf = io.BytesIO()
        t = time.perf_counter()
        draw(pages, buf)
        times.append((time.perf_counter() - t) * 1000)
        data = buf.getvalue()
    with open(out_path, "wb") as f:
        f.write(data)
    print(f"ReportLab {__import__('reportlab').__version__}: {len(pages)} pages")
    print(f"  time: median {statistics.median(times):.1f} ms, best {min(times):.1f} ms")
    print(f"  size: {len(data)} bytes total, {len(data) / len(pages):.0f} bytes per page (incl. fonts)")
    print(f"reportlab_median_ms={statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
