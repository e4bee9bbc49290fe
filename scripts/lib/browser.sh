# Headless Chromium for the browser tests; sourced by scripts/test.
# browser_install installs Debian's chromium, chromium-driver and the CJK
# fonts (so Chinese pages render in screenshots) when any is missing.

browser_install() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} from Debian's packages" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
