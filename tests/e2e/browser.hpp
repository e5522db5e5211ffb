#pragma once
// Debian's headless Chromium, driven through the Chrome DevTools protocol
// over a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte,
// commands into the browser's descriptor 3, answers and events out of its 4),
// for the tests of the status page. No websocket and no library: one tab,
// one command at a time, events read and dropped. Every wait has a deadline.
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {

class Browser {
public:
    // Why Chromium cannot run here (not installed), or empty when it can.
    static std::string unavailable();

    // Starts Chromium with a tab on about:blank; throws with its log if it
    // does not answer. As root it runs without its sandbox, which needs
    // user namespaces a container may not have.
    Browser();
    ~Browser();
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    // A DevTools command to the tab (Page.*, Runtime.*, Input.*, ...); its
    // result. Throws on an error answer, or when none comes within `timeout`.
    nlohmann::json command(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // Loads `url` in the tab; returns once the load has started.
    void navigate(const std::string& url);
    // The value of a JavaScript expression in the page (a promise is
    // awaited); throws when it throws.
    nlohmann::json evaluate(const std::string& expression);
    // The page as a phone or a desk shows it.
    void set_viewport(int width, int height, bool mobile);
    // A left click at the centre of the first element `selector` matches, as
    // a person's mouse makes it (pressed and released); throws when there is none.
    void click(const std::string& selector);
    // The two halves of a click, for what happens while the button is held:
    // press returns where it pressed, for release.
    nlohmann::json press(const std::string& selector);
    void release(const nlohmann::json& at);
    // Types `text` into the focused element.
    void type(const std::string& text);
    // A PNG of the whole page, written to `path`.
    void screenshot(const std::filesystem::path& path);
    // Everything Chromium wrote to stderr and stdout.
    std::string log() const;

private:
    nlohmann::json send(const std::string& method, const nlohmann::json& params, bool to_tab,
                        std::chrono::milliseconds timeout);

    TempDir dir_;  // profile and log
    int to_browser_ = -1;
    int from_browser_ = -1;
    std::unique_ptr<Process> process_;
    std::string received_;  // bytes read past the last whole message
    int next_id_ = 1;
    std::string session_;   // the tab's session
};

}  // namespace dnsd::e2e
