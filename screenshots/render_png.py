#!/usr/bin/env python3
"""Render a `tmux capture-pane -p -e` capture (ANSI SGR colours) to a PNG, like a terminal would.

    python3 screenshots/render_png.py IN.ansi.txt OUT.png    # one capture
    python3 screenshots/render_png.py --all [DIR]            # every DIR/*.ansi.txt -> DIR/*.png
                                                             # (DIR defaults to this script's folder)

Needs Pillow (`pip install pillow`) and the DejaVu Sans Mono font. This is a documentation
tool only; it is not part of the Rust build.

Each cell of a fixed grid (COLS x ROWS, grown if a capture is bigger) is painted with its
background, then its glyph in DejaVu Sans Mono (Bold / Oblique variants for bold / italic).
Box-drawing and block characters are drawn as lines and rectangles so borders join exactly.
East Asian wide characters take two cells. SGR state carries over line ends, as tmux emits it.
"""
import glob
import os
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

COLS, ROWS = 150, 42
FONT_SIZE = 14  # DejaVu Sans Mono 14px: 8 px advance, 13 + 4 px ascent + descent -> 8 x 17 cells
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {
    (False, False): "DejaVuSansMono.ttf",
    (True, False): "DejaVuSansMono-Bold.ttf",
    (False, True): "DejaVuSansMono-Oblique.ttf",
    (True, True): "DejaVuSansMono-BoldOblique.ttf",
}
# For glyphs the mono face lacks (squeezed into their cells); the first that has the glyph wins.
# Only fonts that exist are used; CJK text shows as boxes when no CJK font is installed.
FALLBACK_FONTS = [
    os.path.join(FONT_DIR, "DejaVuSans.ttf"),
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
]

BG = (0x1E, 0x1E, 0x1E)
FG = (0xD4, 0xD4, 0xD4)
PADDING = 6  # px of background around the grid, like a terminal's inner margin

# Standard xterm palette for colours 0-15.
XTERM16 = [
    (0x00, 0x00, 0x00), (0xCD, 0x00, 0x00), (0x00, 0xCD, 0x00), (0xCD, 0xCD, 0x00),
    (0x00, 0x00, 0xEE), (0xCD, 0x00, 0xCD), (0x00, 0xCD, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x7F, 0x7F, 0x7F), (0xFF, 0x00, 0x00), (0x00, 0xFF, 0x00), (0xFF, 0xFF, 0x00),
    (0x5C, 0x5C, 0xFF), (0xFF, 0x00, 0xFF), (0x00, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF),
]


def xterm256(n):
    if n < 16:
        return XTERM16[n]
    if n < 232:
        n -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return (levels[n // 36], levels[(n // 6) % 6], levels[n % 6])
    g = 8 + 10 * (n - 232)
    return (g, g, g)


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse", "hidden", "strike")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = terminal default
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.reverse = self.hidden = self.strike = False

    def copy(self):
        s = Style.__new__(Style)
        for k in Style.__slots__:
            setattr(s, k, getattr(self, k))
        return s

    def apply(self, params):
        """Apply one SGR parameter list (already split on ';' or ':')."""
        p = [int(x) if x.isdigit() else 0 for x in params] or [0]
        i = 0
        while i < len(p):
            c = p[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 8:
                self.hidden = True
            elif c == 9:
                self.strike = True
            elif c in (21, 22):
                self.bold = self.dim = False
                if c == 21:  # "doubly underlined" on some terminals; treat as underline
                    self.underline = True
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif c == 28:
                self.hidden = False
            elif c == 29:
                self.strike = False
            elif 30 <= c <= 37:
                self.fg = XTERM16[c - 30]
            elif 40 <= c <= 47:
                self.bg = XTERM16[c - 40]
            elif 90 <= c <= 97:
                self.fg = XTERM16[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = XTERM16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48, 58):
                colour = None
                if i + 2 < len(p) and p[i + 1] == 5:
                    colour = xterm256(p[i + 2] & 0xFF)
                    i += 2
                elif i + 1 < len(p) and p[i + 1] == 2 and i + 4 < len(p):
                    colour = tuple(v & 0xFF for v in p[i + 2:i + 5])
                    i += 4
                if c == 38 and colour is not None:
                    self.fg = colour
                elif c == 48 and colour is not None:
                    self.bg = colour
                # 58 (underline colour) is ignored.
            i += 1

    def colours(self):
        """Resolved (fg, bg) RGB after defaults, reverse, dim and hidden."""
        fg = self.fg if self.fg is not None else FG
        bg = self.bg if self.bg is not None else BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
        if self.hidden:
            fg = bg
        return fg, bg


SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESC = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def cell_width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(text):
    """Return rows of cells; a cell is (char, Style) or None for the right half of a wide char."""
    style = Style()
    rows = []
    for line in text.split("\n"):
        cells = []
        pos = 0
        while pos < len(line):
            m = SGR.match(line, pos)
            if m:
                style.apply(re.split("[;:]", m.group(1)) if m.group(1) else [])
                pos = m.end()
                continue
            m = OTHER_ESC.match(line, pos)
            if m:  # cursor moves etc. are not expected in a capture; skip them
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\r":
                continue
            if ch == "\t":
                for _ in range(8 - len(cells) % 8):
                    cells.append((" ", style.copy()))
                continue
            w = cell_width(ch)
            if w == 0:
                if cells and cells[-1] is not None:  # combining mark: join to previous cell
                    prev, st = cells[-1]
                    cells[-1] = (prev + ch, st)
                continue
            if ord(ch) < 0x20:
                ch = " "
            cells.append((ch, style.copy()))
            if w == 2:
                cells.append(None)
        # `capture-pane` trims trailing spaces; if a background was still set at the end of
        # the line, those spaces carried it, so extend it to the right edge.
        trailing = style.copy() if style.bg is not None or style.reverse else None
        rows.append((cells, trailing))
    while rows and not rows[-1][0] and rows[-1][1] is None:
        rows.pop()  # the final newline
    return rows


# Box drawing: char -> (up, down, left, right) weights; 1 light, 2 heavy, 3 double.
BOX = {}


def _box(chars, spec):
    for ch, s in zip(chars, spec):
        BOX[ch] = s


L, H, D = 1, 2, 3
_box("─━│┃", [(0, 0, L, L), (0, 0, H, H), (L, L, 0, 0), (H, H, 0, 0)])
_box("┌┍┎┏┐┑┒┓└┕┖┗┘┙┚┛", [
    (0, L, 0, L), (0, L, 0, H), (0, H, 0, L), (0, H, 0, H),
    (0, L, L, 0), (0, L, H, 0), (0, H, L, 0), (0, H, H, 0),
    (L, 0, 0, L), (L, 0, 0, H), (H, 0, 0, L), (H, 0, 0, H),
    (L, 0, L, 0), (L, 0, H, 0), (H, 0, L, 0), (H, 0, H, 0)])
_box("├┝┠┣┤┥┨┫┬┯┰┳┴┷┸┻┼┿╂╋", [
    (L, L, 0, L), (L, L, 0, H), (H, H, 0, L), (H, H, 0, H),
    (L, L, L, 0), (L, L, H, 0), (H, H, L, 0), (H, H, H, 0),
    (0, L, L, L), (0, L, H, H), (0, H, L, L), (0, H, H, H),
    (L, 0, L, L), (L, 0, H, H), (H, 0, L, L), (H, 0, H, H),
    (L, L, L, L), (L, L, H, H), (H, H, L, L), (H, H, H, H)])
_box("═║╒╓╔╕╖╗╘╙╚╛╜╝╞╟╠╡╢╣╤╥╦╧╨╩╪╫╬", [
    (0, 0, D, D), (D, D, 0, 0),
    (0, L, 0, D), (0, D, 0, L), (0, D, 0, D),
    (0, L, D, 0), (0, D, L, 0), (0, D, D, 0),
    (L, 0, 0, D), (D, 0, 0, L), (D, 0, 0, D),
    (L, 0, D, 0), (D, 0, L, 0), (D, 0, D, 0),
    (L, L, 0, D), (D, D, 0, L), (D, D, 0, D),
    (L, L, D, 0), (D, D, L, 0), (D, D, D, 0),
    (0, L, D, D), (0, D, L, L), (0, D, D, D),
    (L, 0, D, D), (D, 0, L, L), (D, 0, D, D),
    (L, L, D, D), (D, D, L, L), (D, D, D, D)])
_box("╴╵╶╷╸╹╺╻╼╽╾╿", [
    (0, 0, L, 0), (L, 0, 0, 0), (0, 0, 0, L), (0, L, 0, 0),
    (0, 0, H, 0), (H, 0, 0, 0), (0, 0, 0, H), (0, H, 0, 0),
    (0, 0, L, H), (L, H, 0, 0), (0, 0, H, L), (H, L, 0, 0)])
ARCS = {"╭": "dr", "╮": "dl", "╯": "ul", "╰": "ur"}


class Renderer:
    def __init__(self):
        self.fonts = {k: ImageFont.truetype(os.path.join(FONT_DIR, v), FONT_SIZE)
                      for k, v in FONT_FILES.items()}
        self.fallbacks = [ImageFont.truetype(f, FONT_SIZE) for f in FALLBACK_FONTS if os.path.exists(f)]
        regular = self.fonts[(False, False)]
        self.ascent, self.descent = regular.getmetrics()
        self.cw = max(1, round(regular.getlength("M")))
        self.ch = self.ascent + self.descent
        self.light = max(1, round(self.cw / 8))
        self.heavy = self.light * 2
        self._has = {}

    def has_glyph(self, font, ch):
        """Whether `font` has a glyph for `ch` (its rendering differs from the missing-glyph box)."""
        key = (id(font), ch)
        if key not in self._has:
            notdef = bytes(font.getmask("\U000F0000"))  # a private-use code point: never mapped
            self._has[key] = ch.isspace() or bytes(font.getmask(ch)) != notdef
        return self._has[key]

    # --- special glyphs ---------------------------------------------------------------------
    def draw_box(self, d, x, y, ch, fg):
        up, down, left, right = BOX[ch]
        cw, chh = self.cw, self.ch
        mx, my = x + cw // 2, y + chh // 2

        def thick(w):
            return self.heavy if w == H else self.light

        def hline(x0, x1, w):
            t = thick(w)
            d.rectangle([x0, my - t // 2, x1, my + (t - 1) // 2], fill=fg)

        def vline(y0, y1, w):
            t = thick(w)
            d.rectangle([mx - t // 2, y0, mx + (t - 1) // 2, y1], fill=fg)

        if D in (up, down, left, right):
            self.draw_double(d, x, y, up, down, left, right, fg)
            return
        # Each arm runs from the cell edge to the centre, overlapping the crossing arm's width.
        ext = self.heavy if max(up, down, left, right) >= H else self.light
        if left:
            hline(x, mx + ext // 2 if not right else mx, left)
        if right:
            hline(mx - ext // 2 if not left else mx, x + cw - 1, right)
        if up:
            vline(y, my + ext // 2 if not down else my, up)
        if down:
            vline(my - ext // 2 if not up else my, y + chh - 1, down)

    def draw_double(self, d, x, y, up, down, left, right, fg):
        """Box characters with double arms: two parallel lines per double arm, mitred at corners."""
        cw, chh, t = self.cw, self.ch, self.light
        mx, my = x + cw // 2, y + chh // 2
        g = t + 1  # half the distance between the two lines of a double arm
        x1, y1 = x + cw - 1, y + chh - 1

        def h(x0, x_1, yy):
            d.rectangle([x0, yy - t // 2, x_1, yy + (t - 1) // 2], fill=fg)

        def v(y0, y_1, xx):
            d.rectangle([xx - t // 2, y0, xx + (t - 1) // 2, y_1], fill=fg)

        dv = up == D or down == D
        dh = left == D or right == D

        def inner(perp, light_perp, centre, near, far):
            """Where a line of a double arm ends: short of a double perpendicular arm on its
            side, at the centre of a single one, else it turns the corner (outer line)."""
            return near if perp == D else centre if light_perp else far

        lv = (up or down) and not dv  # a single (light/heavy) vertical crosses the centre
        lh = (left or right) and not dh
        if left == D:
            h(x, inner(up, lv, mx, mx - g, mx + g), my - g)
            h(x, inner(down, lv, mx, mx - g, mx + g), my + g)
        elif left:  # a single arm meeting double lines: runs through the centre or to the far line
            h(x, mx if (right or not dv) else mx + g, my)
        if right == D:
            h(inner(up, lv, mx, mx + g, mx - g), x1, my - g)
            h(inner(down, lv, mx, mx + g, mx - g), x1, my + g)
        elif right:
            h(mx if (left or not dv) else mx - g, x1, my)
        if up == D:
            v(y, inner(left, lh, my, my - g, my + g), mx - g)
            v(y, inner(right, lh, my, my - g, my + g), mx + g)
        elif up:
            v(y, my if (down or not dh) else my + g, mx)
        if down == D:
            v(inner(left, lh, my, my + g, my - g), y1, mx - g)
            v(inner(right, lh, my, my + g, my - g), y1, mx + g)
        elif down:
            v(my if (up or not dh) else my - g, y1, mx)

    def draw_arc(self, d, x, y, ch, fg):
        """Rounded corner: quarter ellipse from the centre of one edge to the centre of another."""
        kind = ARCS[ch]
        cw, chh, t = self.cw, self.ch, self.light
        mx, my = x + cw // 2, y + chh // 2
        r = max(1, min(cw - 1 - cw // 2, chh // 2 - 1))  # keeps the straight parts inside the cell
        # Straight parts from the edges up to where the arc begins.
        if "d" in kind:
            d.rectangle([mx - t // 2, my + r, mx + (t - 1) // 2, y + chh - 1], fill=fg)
        else:
            d.rectangle([mx - t // 2, y, mx + (t - 1) // 2, my - r], fill=fg)
        if "r" in kind:
            d.rectangle([mx + r, my - t // 2, x + cw - 1, my + (t - 1) // 2], fill=fg)
        else:
            d.rectangle([x, my - t // 2, mx - r, my + (t - 1) // 2], fill=fg)
        # The arc: circle of radius r centred diagonally off the corner.
        cx = mx + r if "r" in kind else mx - r
        cy = my + r if "d" in kind else my - r
        start = {"dr": 180, "dl": 270, "ul": 0, "ur": 90}[kind]
        d.arc([cx - r, cy - r, cx + r, cy + r], start, start + 90, fill=fg, width=t)

    def draw_block(self, d, x, y, ch, fg, bg):
        cw, chh = self.cw, self.ch
        o = ord(ch)
        x1, y1 = x + cw - 1, y + chh - 1
        if o == 0x2588:
            d.rectangle([x, y, x1, y1], fill=fg)
        elif o == 0x2580:
            d.rectangle([x, y, x1, y + chh // 2 - 1], fill=fg)
        elif 0x2581 <= o <= 0x2587:  # lower n/8
            h = round(chh * (o - 0x2580) / 8)
            d.rectangle([x, y1 - h + 1, x1, y1], fill=fg)
        elif 0x2589 <= o <= 0x258F:  # left n/8
            w = max(1, round(cw * (0x2590 - o) / 8))
            d.rectangle([x, y, x + w - 1, y1], fill=fg)
        elif o == 0x2590:
            d.rectangle([x + cw // 2, y, x1, y1], fill=fg)
        elif o in (0x2591, 0x2592, 0x2593):  # shades: blend
            a = {0x2591: 0.25, 0x2592: 0.5, 0x2593: 0.75}[o]
            d.rectangle([x, y, x1, y1], fill=tuple(round(b + (f - b) * a) for f, b in zip(fg, bg)))
        elif o == 0x2594:
            d.rectangle([x, y, x1, y + max(1, chh // 8) - 1], fill=fg)
        elif o == 0x2595:
            d.rectangle([x1 - max(1, cw // 8) + 1, y, x1, y1], fill=fg)
        else:  # quadrants 2596-259F
            quads = {0x2596: "3", 0x2597: "4", 0x2598: "1", 0x2599: "134", 0x259A: "14",
                     0x259B: "123", 0x259C: "124", 0x259D: "2", 0x259E: "23", 0x259F: "234"}[o]
            hx, hy = cw // 2, chh // 2
            boxes = {"1": [x, y, x + hx - 1, y + hy - 1], "2": [x + hx, y, x1, y + hy - 1],
                     "3": [x, y + hy, x + hx - 1, y1], "4": [x + hx, y + hy, x1, y1]}
            for q in quads:
                d.rectangle(boxes[q], fill=fg)

    def draw_fallback(self, img, x, y, text, fg, width_cells):
        """A glyph from the proportional fallback font, squeezed to fit its cells if too wide."""
        font = next((f for f in self.fallbacks if all(self.has_glyph(f, k) for k in text)),
                    self.fonts[(False, False)])
        w = max(1, round(font.getlength(text)))
        tmp = Image.new("L", (w + 2, self.ch), 0)
        ImageDraw.Draw(tmp).text((1, self.ascent), text, font=font, fill=255, anchor="ls")
        target = self.cw * width_cells
        if w + 2 > target:
            tmp = tmp.resize((target, self.ch), Image.LANCZOS)
            img.paste(fg, (x, y), tmp)
        else:
            img.paste(fg, (x + (target - w - 2) // 2, y), tmp)

    # --- whole screen -------------------------------------------------------------------------
    def render(self, text):
        rows = parse(text)
        ncols = max([COLS] + [len(c) for c, _ in rows])
        nrows = max(ROWS, len(rows))
        cw, chh = self.cw, self.ch
        img = Image.new("RGB", (ncols * cw + 2 * PADDING, nrows * chh + 2 * PADDING), BG)
        d = ImageDraw.Draw(img)

        # Pass 1: backgrounds (so glyphs that overhang a cell are not cut by the next cell's bg).
        for r, (cells, trailing) in enumerate(rows):
            y = PADDING + r * chh
            for c, cell in enumerate(cells):
                if cell is None:
                    continue
                ch, st = cell
                _, bg = st.colours()
                span = 2 if c + 1 < len(cells) and cells[c + 1] is None else 1
                if bg != BG:
                    x = PADDING + c * cw
                    d.rectangle([x, y, x + span * cw - 1, y + chh - 1], fill=bg)
            if trailing is not None and len(cells) < ncols:
                _, bg = trailing.colours()
                d.rectangle([PADDING + len(cells) * cw, y, PADDING + ncols * cw - 1, y + chh - 1], fill=bg)

        # Pass 2: glyphs and decorations.
        for r, (cells, _) in enumerate(rows):
            y = PADDING + r * chh
            for c, cell in enumerate(cells):
                if cell is None:
                    continue
                ch, st = cell
                fg, bg = st.colours()
                x = PADDING + c * cw
                span = 2 if c + 1 < len(cells) and cells[c + 1] is None else 1
                if ch != " " and fg != bg:
                    if ch in BOX:
                        self.draw_box(d, x, y, ch, fg)
                    elif ch in ARCS:
                        self.draw_arc(d, x, y, ch, fg)
                    elif 0x2580 <= ord(ch[0]) <= 0x259F and len(ch) == 1:
                        self.draw_block(d, x, y, ch, fg, bg)
                    elif all(self.has_glyph(self.fonts[(st.bold, st.italic)], k) for k in ch):
                        font = self.fonts[(st.bold, st.italic)]
                        if span == 2:  # centre a wide glyph in its two cells
                            x += max(0, (2 * cw - round(font.getlength(ch))) // 2)
                        d.text((x, y + self.ascent), ch, font=font, fill=fg, anchor="ls")
                    else:
                        self.draw_fallback(img, x, y, ch, fg, span)
                    x = PADDING + c * cw
                if st.underline:
                    uy = y + self.ascent + 1
                    d.rectangle([x, uy, x + span * cw - 1, uy + self.light - 1], fill=fg)
                if st.strike:
                    sy = y + self.ascent - round(self.ascent * 0.3)
                    d.rectangle([x, sy, x + span * cw - 1, sy + self.light - 1], fill=fg)
        return img


def render_file(renderer, src, dst):
    with open(src, encoding="utf-8", errors="replace") as f:
        text = f.read()
    img = renderer.render(text)
    # A screen has a handful of flat colours plus anti-aliasing shades: a 256-colour palette
    # (no dithering) looks the same and makes the PNG about five times smaller.
    img = img.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(dst, optimize=True)
    print(f"render_png: {dst}")


def main(argv):
    if len(argv) >= 1 and argv[0] in ("-a", "--all"):
        folder = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
        srcs = sorted(glob.glob(os.path.join(folder, "*.ansi.txt")))
        if not srcs:
            print(f"render_png: no *.ansi.txt in {folder}", file=sys.stderr)
            return 1
        renderer = Renderer()
        for src in srcs:
            render_file(renderer, src, src[: -len(".ansi.txt")] + ".png")
        return 0
    if len(argv) == 2:
        render_file(Renderer(), argv[0], argv[1])
        return 0
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
