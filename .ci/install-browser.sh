#!/bin/sh
# Install headless Chromium and its WebDriver for the browser tests (tests/test_review_browser.py).
#
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver already exist.
# Never fails the CI: when the packages cannot be installed (no apt, no network, not root) it says
# why and exits 0; the browser test then skips itself with that reason.
set -u

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
    echo "install-browser: chromium and chromedriver already installed ($("$CHROMEDRIVER" --version 2>/dev/null | head -n 1))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: apt-get not found; not installing chromium (browser tests will be skipped)"
    exit 0
fi

# a hung mirror must not hang the CI
LIMIT=""
if command -v timeout >/dev/null 2>&1; then
    LIMIT="timeout 900"
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-browser: not root and no password-less sudo; not installing chromium (browser tests will be skipped)"
        exit 0
    fi
fi

echo "install-browser: installing chromium and chromium-driver with apt-get …"
if ! $LIMIT $SUDO apt-get update -qq; then
    echo "install-browser: apt-get update failed (is the Debian mirror reachable?); browser tests will be skipped"
    exit 0
fi
if ! DEBIAN_FRONTEND=noninteractive $LIMIT $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver; then
    echo "install-browser: apt-get install chromium chromium-driver failed; browser tests will be skipped"
    exit 0
fi

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
    echo "install-browser: installed ($("$CHROMEDRIVER" --version 2>/dev/null | head -n 1))"
else
    echo "install-browser: packages installed but $CHROMIUM or $CHROMEDRIVER is missing; browser tests will be skipped"
fi
exit 0
