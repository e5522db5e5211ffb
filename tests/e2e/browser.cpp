#include "tests/e2e/browser.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace dnsd::e2e {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Moves `fd` to 10 or above (close-on-exec), out of the way of the 3 and 4
// the child gets.
int raised(int fd) {
    const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    ::close(fd);
    if (high < 0) throw std::runtime_error(std::string("fcntl: ") + std::strerror(errno));
    return high;
}

std::string base64_decode(const std::string& text) {
    std::string out(text.size() / 4 * 3, '\0');
    const int size = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (size < 0) throw std::runtime_error("screenshot: not base64");
    size_t padding = 0;
    for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++padding;
    out.resize(static_cast<size_t>(size) - padding);
    return out;
}

}  // namespace

std::string Browser::unavailable() {
    try {
        const CommandResult version = run_command({"chromium", "--version"}, std::chrono::seconds(60));
        if (version.exit_code != 0) return "chromium --version failed: " + version.err;
        return "";
    } catch (const std::exception& e) {
        return std::string("Chromium is not installed (Debian's chromium; tools/install-deps installs it): ") + e.what();
    }
}

Browser::Browser() {
    // One socket for both directions: a write to it cannot raise SIGPIPE (MSG_NOSIGNAL).
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    const int ours = raised(ends[0]);
    const int theirs = raised(ends[1]);
    std::vector<std::string> argv{"chromium",
                                  "--headless",
                                  "--remote-debugging-pipe",
                                  "--user-data-dir=" + (dir_.path() / "profile").string(),
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--disable-extensions",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--hide-scrollbars",
                                  "--mute-audio"};
    if (::geteuid() == 0) argv.push_back("--no-sandbox");
    argv.push_back("about:blank");
    try {
        process_ = std::make_unique<Process>(argv, dir_.path() / "chromium.log", std::filesystem::path(),
                                             std::vector<int>{theirs, theirs});
    } catch (...) {
        ::close(ours);
        ::close(theirs);
        throw;
    }
    ::close(theirs);
    to_browser_ = from_browser_ = ours;

    const json target = send("Target.createTarget", {{"url", "about:blank"}}, false, std::chrono::seconds(120));
    const json attached = send("Target.attachToTarget", {{"targetId", target.at("targetId")}, {"flatten", true}},
                               false, std::chrono::seconds(60));
    session_ = attached.at("sessionId").get<std::string>();
}

Browser::~Browser() {
    try {
        send("Browser.close", json::object(), false, std::chrono::seconds(10));
    } catch (const std::exception&) {
        // Gone already, or not answering: stop() below ends it.
    }
    if (process_) process_->stop();
    if (to_browser_ >= 0) ::close(to_browser_);
}

std::string Browser::log() const { return read_text(dir_.path() / "chromium.log"); }

json Browser::send(const std::string& method, const json& params, bool to_tab, std::chrono::milliseconds timeout) {
    const int id = next_id_++;
    json message{{"id", id}, {"method", method}, {"params", params}};
    if (to_tab) message["sessionId"] = session_;
    std::string bytes = message.dump();
    bytes.push_back('\0');
    for (size_t sent = 0; sent < bytes.size();) {
        const ssize_t n = ::send(to_browser_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(method + ": cannot write to Chromium: " + std::strerror(errno) + "\n" + log());
        sent += static_cast<size_t>(n);
    }

    const auto deadline = Clock::now() + timeout;
    for (;;) {
        for (size_t end; (end = received_.find('\0')) != std::string::npos;) {
            const json answer = json::parse(received_.substr(0, end), nullptr, false);
            received_.erase(0, end + 1);
            if (answer.is_discarded() || !answer.contains("id") || answer["id"] != id) continue;  // an event
            if (answer.contains("error")) throw std::runtime_error(method + ": " + answer["error"].dump());
            return answer.value("result", json::object());
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) throw std::runtime_error(method + ": no answer from Chromium in time\n" + log());
        pollfd readable{from_browser_, POLLIN, 0};
        if (::poll(&readable, 1, static_cast<int>(left)) <= 0) continue;
        char buffer[65536];
        const ssize_t n = ::read(from_browser_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(method + ": Chromium closed its end\n" + log());
        received_.append(buffer, static_cast<size_t>(n));
    }
}

json Browser::command(const std::string& method, const json& params, std::chrono::milliseconds timeout) {
    return send(method, params, true, timeout);
}

void Browser::navigate(const std::string& url) {
    const json result = command("Page.navigate", {{"url", url}});
    if (result.contains("errorText")) throw std::runtime_error("navigate to " + url + ": " + result["errorText"].dump());
}

json Browser::evaluate(const std::string& expression) {
    const json result =
        command("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
    if (result.contains("exceptionDetails"))
        throw std::runtime_error("JavaScript threw: " + result["exceptionDetails"].dump() + "\nin: " + expression);
    return result.at("result").value("value", json());
}

void Browser::set_viewport(int width, int height, bool mobile) {
    command("Emulation.setDeviceMetricsOverride",
            {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", mobile}});
}

void Browser::click(const std::string& selector) { release(press(selector)); }

json Browser::press(const std::string& selector) {
    const json centre = evaluate("(() => { const e = document.querySelector(" + json(selector).dump() +
                                 "); if (!e) return null; e.scrollIntoView({block: 'center'});"
                                 " const r = e.getBoundingClientRect();"
                                 " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()");
    if (centre.is_null()) throw std::runtime_error("nothing to click: no " + selector);
    for (const char* type : {"mouseMoved", "mousePressed"})
        command("Input.dispatchMouseEvent",
                {{"type", type}, {"x", centre["x"]}, {"y", centre["y"]}, {"button", "left"}, {"clickCount", 1}});
    return centre;
}

void Browser::release(const json& at) {
    command("Input.dispatchMouseEvent",
            {{"type", "mouseReleased"}, {"x", at["x"]}, {"y", at["y"]}, {"button", "left"}, {"clickCount", 1}});
}

void Browser::type(const std::string& text) { command("Input.insertText", {{"text", text}}); }

void Browser::screenshot(const std::filesystem::path& path) {
    const json metrics = command("Page.getLayoutMetrics");
    const json& size = metrics.at("cssContentSize");
    const json shot = command("Page.captureScreenshot",
                              {{"format", "png"},
                               {"captureBeyondViewport", true},
                               {"clip", {{"x", 0}, {"y", 0}, {"width", size.at("width")}, {"height", size.at("height")}, {"scale", 1}}}});
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << base64_decode(shot.at("data").get<std::string>());
}

}  // namespace dnsd::e2e
