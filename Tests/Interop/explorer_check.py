"""Drives Gyre's explorer in headless Chromium (Debian's chromium and chromedriver, selenium from
PyPI) and checks what each view shows, keeping the screenshots.

    python explorer_check.py BASE_URL OUT_DIR

Views: the landing page (the first dataset's tiles on the map), a catalog search by a box drawn on
the map and a date range (footprints on the map, items listed), the variable's tiles at two time
steps (the pixels differ), the time series after a click on the map, and an expression's plot.
Each screenshot is checked for its content (tiles loaded, not blank), and the browser console
must hold no error. Prints one JSON report; exits 1 when a check fails.
"""
import io
import json
import pathlib
import sys
import time

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

BASE = sys.argv[1].rstrip("/")
OUT = pathlib.Path(sys.argv[2])
OUT.mkdir(parents=True, exist_ok=True)
report = {"checks": [], "screenshots": []}
failed = []


def check(name, ok, detail=""):
    report["checks"].append({"check": name, "ok": bool(ok), "detail": str(detail)[:500]})
    if not ok:
        failed.append(name)


def wait(driver, js, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if driver.execute_script("return " + js):
            return True
        time.sleep(0.1)
    check("waited for " + what, False, driver.execute_script("return JSON.stringify(window.gyreExplorer || null)"))
    return False


def shot(element, name):
    element.parent.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(0.2)
    png = element.screenshot_as_png
    path = OUT / (name + ".png")
    path.write_bytes(png)
    report["screenshots"].append(str(path))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def colours(img):
    return len(np.unique(img.reshape(-1, 3), axis=0))


def main():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
              "--disable-extensions", "--no-first-run", "--disable-background-networking"]:
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        run(driver)
        logs = driver.get_log("browser")
        severe = [entry for entry in logs if entry["level"] == "SEVERE"]
        check("no error in the browser console", not severe, severe)
        report["console"] = [entry["message"][:300] for entry in logs]
    finally:
        driver.quit()


def point(driver, lat, lon):
    """Offsets from the map element's centre of a latitude/longitude (for ActionChains)."""
    return driver.execute_script(
        "const m = window.gyreMap; const p = m.latLngToContainerPoint([arguments[0], arguments[1]]);"
        "const s = m.getSize(); return [Math.round(p.x - s.x / 2), Math.round(p.y - s.y / 2)];", lat, lon)


def run(driver):
    # Landing: a browser asking for / gets the explorer, which opens the first dataset's tiles.
    driver.get(BASE + "/")
    check("the page is the explorer", driver.title == "Gyre explorer", driver.title)
    if not wait(driver, "window.gyreExplorer && gyreExplorer.ready && gyreExplorer.tilesLoaded >= 4", "the landing tiles"):
        return
    time.sleep(0.5)
    map_el = driver.find_element(By.ID, "map")
    landing = shot(driver.find_element(By.TAG_NAME, "body"), "landing")
    map_img = shot(map_el, "landing-map")
    check("landing: tiles are drawn on the map (many colours)", colours(map_img) > 100, colours(map_img))
    check("landing: datasets are listed", "sst" in driver.find_element(By.ID, "datasets").text)
    check("landing: the repr is shown", "Dimensions" in driver.execute_script("return document.getElementById('repr').textContent"))
    check("landing: collections are listed", len(driver.find_elements(By.CSS_SELECTOR, "#collection option")) >= 3)
    cb = shot(driver.find_element(By.ID, "colorbar-canvas"), "colorbar")
    check("landing: the colorbar is drawn", colours(cb) > 20, colours(cb))
    report["landing_size"] = list(landing.shape)

    # Search: a box drawn over Europe and a date range.
    driver.execute_script("document.getElementById('from').value = '2019-01-01'; document.getElementById('to').value = '2021-12-31';")
    driver.find_element(By.ID, "draw").click()
    a, b = point(driver, 60, -10), point(driver, 35, 30)
    ActionChains(driver).move_to_element_with_offset(map_el, a[0], a[1]).click_and_hold() \
        .move_to_element_with_offset(map_el, (a[0] + b[0]) // 2, (a[1] + b[1]) // 2) \
        .move_to_element_with_offset(map_el, b[0], b[1]).release().perform()
    bbox = driver.find_element(By.ID, "bbox").text
    check("search: the drawn box is the bbox", bbox.count(",") == 3, bbox)
    try:
        w, s, e, n = [float(v) for v in bbox.split(",")]
        check("search: the box covers what was drawn", abs(w + 10) < 2 and abs(s - 35) < 2 and abs(e - 30) < 2 and abs(n - 60) < 2, bbox)
    except ValueError:
        check("search: the box is four numbers", False, bbox)
    driver.find_element(By.ID, "search").click()
    if wait(driver, "gyreExplorer.searchReturned !== null", "the search"):
        n_items = driver.execute_script("return gyreExplorer.searchReturned")
        listed = len(driver.find_elements(By.CSS_SELECTOR, "#results li"))
        drawn = len(driver.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive"))
        check("search: items found in the box and dates", n_items > 0, n_items)
        check("search: each item is listed", listed == n_items, (listed, n_items))
        check("search: footprints drawn on the map", drawn >= n_items, (drawn, n_items))
        status = driver.find_element(By.ID, "search-status").text
        check("search: the status says how many", "items" in status, status)
        shot(driver.find_element(By.TAG_NAME, "body"), "search")

    # Tiles at two time steps: the pixels differ.
    driver.find_element(By.ID, "clear-box").click()
    driver.execute_script("window.gyreMap.setView([10, -40], 3)")
    time.sleep(0.3)
    wait(driver, "gyreExplorer.tilesLoaded >= 4", "tiles at the first step")
    time.sleep(1.0)
    first = shot(map_el, "tiles-step-0")
    url0 = driver.execute_script("return gyreExplorer.tileURL")
    driver.execute_script(
        "const s = document.getElementById('step-time'); s.value = Math.floor(s.max / 2); s.dispatchEvent(new Event('input'));"
        "s.dispatchEvent(new Event('change'));")
    wait(driver, "gyreExplorer.tileURL !== %s && gyreExplorer.tilesLoaded >= 4" % json.dumps(url0), "tiles at the second step")
    time.sleep(1.0)
    second = shot(map_el, "tiles-step-half")
    url1 = driver.execute_script("return gyreExplorer.tileURL")
    differ = float(np.mean(np.any(first != second, axis=2)))
    check("tiles: the second step asks other tiles", url0 != url1 and "time=" in url1, url1)
    check("tiles: the two steps' pixels differ", differ > 0.05, differ)
    check("tiles: both steps are drawn", colours(first) > 100 and colours(second) > 100, (colours(first), colours(second)))
    report["tiles_differ"] = differ

    # A click on the ocean: the time series there (EDR position).
    c = point(driver, 0, -30)
    ActionChains(driver).move_to_element_with_offset(map_el, c[0], c[1]).click().perform()
    if wait(driver, "gyreExplorer.seriesPoints > 0", "the time series"):
        n = driver.execute_script("return gyreExplorer.seriesPoints")
        check("series: a value for each time step", n >= 300, n)
        title = driver.find_element(By.ID, "series-title").text
        check("series: the title names the variable and the point", "sst" in title and "-30" in title, title)
        series = shot(driver.find_element(By.ID, "series"), "series")
        blue = np.sum((series[:, :, 2] > 150) & (series[:, :, 0] < 120))
        check("series: the line is drawn", blue > 200, int(blue))
        shot(driver.find_element(By.TAG_NAME, "body"), "series-page")

    # An expression's result, drawn by the server.
    driver.execute_script("const e = document.getElementById('expr'); e.value = \"sst.mean('time')\";")
    driver.find_element(By.ID, "plot").click()
    if wait(driver, "gyreExplorer.plotLoaded", "the expression's plot"):
        w = driver.execute_script("return document.getElementById('expr-image').naturalWidth")
        check("expression: the plot is shown", w == 720, w)
        plot = shot(driver.find_element(By.ID, "expr-image"), "expression")
        check("expression: the plot is shown whole", plot.shape[0] > 150 and plot.shape[1] > 250, plot.shape)
        check("expression: the plot has content", colours(plot) > 50, colours(plot))
        shot(driver.find_element(By.TAG_NAME, "body"), "expression-page")
    errors = driver.execute_script("return gyreExplorer.errors")
    check("the explorer reported no error", not errors, errors)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash is a failed check with its message
        check("the browser session ran", False, repr(e))
    report["ok"] = not failed
    report["failed"] = failed
    print(json.dumps(report))
    sys.exit(0 if not failed else 1)
