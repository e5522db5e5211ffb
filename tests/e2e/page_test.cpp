// The status page (SPEC §8, GET /): its files as the endpoint serves them,
// and the page itself in Debian's headless Chromium against dnsd serving the
// demo zone: every pool and member with its state, a drain made through the
// API shown within one refresh, a drain made with the page's button gone from
// the DNS answers, the token asked for, the explain box, a phone's width, a
// fleet's nodes and votes.
// Screenshots go to the build directory's artifacts/.
#include <poll.h>

#include <algorithm>
#include <map>
#include <set>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/browser.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using Addresses = std::set<std::string>;

const std::filesystem::path source_dir = DNSD_SOURCE_DIR;
const std::filesystem::path artifact_dir = DNSD_ARTIFACT_DIR;

// Polls `done` until it holds or `timeout` passes; whether it held. Generous
// bounds: Chromium and an ASan-built dnsd share two busy cores. Shorter than
// the test's own time limit, so that a wait that never ends fails where it waits.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds timeout = 60s) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 100);
    }
    return true;
}

Dnsd demo_server(std::optional<std::string> config_json = std::nullopt) {
    DnsdOptions options;
    options.zones_dir = source_dir / "zones";
    options.config_json = std::move(config_json);
    return Dnsd(options);
}

std::string member_path(const std::string& pool, const std::string& address) {
    return "/v1/zones/demo.example/pools/" + pool + "/members/" + address;
}

json status(uint16_t http) {
    const HttpResponse response = http_request(http, "GET", "/v1/status");
    REQUIRE(response.status == 200);
    return json::parse(response.body);
}

// The override status lists for `address`, or empty.
std::string override_of(uint16_t http, const std::string& address) {
    const json live = status(http);
    for (const auto& o : live["overrides"])
        if (o["address"] == address) return o["state"].get<std::string>();
    return "";
}

Addresses answer(uint16_t port, const std::string& name) {
    Addresses out;
    for (const Rr& rr : dig(port, {name, "A"}).answer) out.insert(rr.rdata);
    return out;
}

// How the page shows one member.
struct Shown {
    std::string state;   // data-state: up, down, draining, out
    std::string badge;   // the state as text: "✔ up", ...
    std::string region;  // the heading of its region's rows: "region eu", "every region"
};

// "POOL ADDRESS" → how the page shows it, read from the DOM.
std::map<std::string, Shown> shown_members(Browser& browser) {
    const json rows = browser.evaluate(R"([...document.querySelectorAll("tr.member")].map((row) => {
        let heading = row.previousElementSibling;
        while (heading && !heading.classList.contains("region")) heading = heading.previousElementSibling;
        return {pool: row.dataset.pool, address: row.dataset.address, state: row.dataset.state,
                badge: row.querySelector(".badge").textContent, region: heading ? heading.textContent : ""};
    }))");
    std::map<std::string, Shown> out;
    for (const auto& row : rows)
        out[row["pool"].get<std::string>() + " " + row["address"].get<std::string>()] = {
            row["state"].get<std::string>(), row["badge"].get<std::string>(), row["region"].get<std::string>()};
    return out;
}

// What the page must show for the demo zone: every member of every pool in
// zones/demo.example.json, out when the file says down, else up, or down
// when its pool probes it and the probes (as /v1/status reports them) fail.
std::map<std::string, Shown> expected_members(const json& live) {
    const json zone = json::parse(read_text(source_dir / "zones" / "demo.example.json"));
    std::map<std::string, Shown> out;
    for (const auto& [pool, body] : zone["pools"].items())
        for (const auto& member : body["members"]) {
            const std::string address = member["address"];
            std::string state = member.value("state", "auto") == "down" ? "out" : "up";
            for (const auto& p : live["pools"])
                for (const auto& m : p["members"])
                    if (p["pool"] == pool && m["address"] == address && state == "up" && m["health"] == "down")
                        state = "down";
            const std::string region = member.contains("region") ? "region " + member["region"].get<std::string>()
                                                                  : "every region";
            out[pool + " " + address] = {state, "", region};
        }
    return out;
}

// The page shows exactly the expected members, each with its state (as data
// and as text) under its region's heading.
bool shows(const std::map<std::string, Shown>& shown, const std::map<std::string, Shown>& expected) {
    if (shown.size() != expected.size()) return false;
    for (const auto& [key, want] : expected) {
        const auto it = shown.find(key);
        if (it == shown.end()) return false;
        const Shown& got = it->second;
        if (got.state != want.state || got.badge.find(want.state) == std::string::npos ||
            !got.region.starts_with(want.region))
            return false;
    }
    return true;
}

std::string describe(const std::map<std::string, Shown>& members) {
    std::string out;
    for (const auto& [key, m] : members) out += key + ": " + m.state + " [" + m.badge + "] under " + m.region + "\n";
    return out;
}

void require_png(const std::filesystem::path& path) {
    const std::string bytes = read_text(path);
    INFO(path);
    REQUIRE(bytes.size() > 1000);
    REQUIRE(bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n");
}

// Opens the page and waits until it shows the demo zone's members.
void open_page(Browser& browser, uint16_t http) {
    browser.set_viewport(1280, 900, false);
    browser.navigate("http://127.0.0.1:" + std::to_string(http) + "/");
    std::map<std::string, Shown> shown, expected;
    const bool ok = eventually([&] {
        expected = expected_members(status(http));
        shown = shown_members(browser);
        return shows(shown, expected);
    });
    INFO("the page shows:\n" << describe(shown) << "expected:\n" << describe(expected) << browser.log());
    REQUIRE(ok);
}

// False, with the reason as a warning, where Chromium cannot run.
bool chromium_runs() {
    const std::string why = Browser::unavailable();
    if (!why.empty()) WARN("skipped: " << why);
    return why.empty();
}

// dnsd on the demo zone, and Chromium showing its status page.
struct PageSession {
    explicit PageSession(std::optional<std::string> config_json = std::nullopt)
        : server(demo_server(std::move(config_json))), port(server.port()), http(server.http_port()) {
        open_page(browser, http);
    }

    Dnsd server;
    uint16_t port;
    uint16_t http;
    Browser browser;
};

const char* const failover_row = R"(tr.member[data-pool="primary-backup"][data-address="192.0.2.40"])";

}  // namespace

TEST_CASE("page: GET / serves the status page, its script and style, and nothing from elsewhere", "[http][page]") {
    Dnsd server;
    const uint16_t http = server.http_port();
    const std::string policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    const std::map<std::string, std::pair<std::string, std::string>> files{
        {"/", {"index.html", "text/html; charset=utf-8"}},
        {"/script.js", {"script.js", "text/javascript; charset=utf-8"}},
        {"/style.css", {"style.css", "text/css; charset=utf-8"}}};
    for (const auto& [path, file] : files) {
        const HttpResponse response = http_request(http, "GET", path);
        INFO(path);
        REQUIRE(response.status == 200);
        CHECK(response.header("content-type") == file.second);
        CHECK(response.header("cache-control") == "no-cache");
        CHECK(response.header("content-security-policy") == policy);
        CHECK(response.header("x-content-type-options") == "nosniff");
        // The file in the tree, byte for byte: the build embeds what is edited.
        CHECK(response.body == read_text(source_dir / "dnsd" / "control" / "page" / file.first));
        // Self-contained: no address of another host anywhere.
        CHECK(response.body.find("://") == std::string::npos);
    }
    // Every file the page loads is one of these.
    const std::string page = http_request(http, "GET", "/").body;
    for (const std::string attribute : {"src=\"", "href=\""})
        for (size_t at = page.find(attribute); at != std::string::npos; at = page.find(attribute, at + 1)) {
            const size_t start = at + attribute.size();
            const std::string target = page.substr(start, page.find('"', start) - start);
            INFO(target);
            CHECK(files.contains(target));
        }
    CHECK(http_request(http, "POST", "/").status == 405);
    CHECK(http_request(http, "GET", "/index.html").status == 404);
}

TEST_CASE("page: /v1/status counts pool answers by region and tier, as /metrics does", "[http][page][status]") {
    Dnsd server = demo_server();
    const uint16_t port = server.port();
    const uint16_t http = server.http_port();
    // No GeoIP database here: clients go by region subnets, else the default
    // region, us. A us client's AAAA falls back to eu (us's IPv6 member is down).
    for (int i = 0; i < 3; ++i) REQUIRE(answer(port, "www.demo.example") == Addresses{"198.51.100.10", "198.51.100.11"});
    REQUIRE(dig(port, {"www.demo.example", "AAAA"}).answer.size() == 1);
    const auto count = [&](const char* region, const char* tier) -> uint64_t {
        const json live = status(http);
        for (const auto& row : live["answers"])
            if (row["zone"] == "demo.example" && row["pool"] == "web" && row["region"] == region && row["tier"] == tier)
                return row["count"];
        return 0;
    };
    REQUIRE(eventually([&] { return count("us", "primary") == 3; }, 10s));
    CHECK(count("eu", "fallback") == 1);
    const std::string metrics = http_request(http, "GET", "/metrics").body;
    CHECK(metrics.find(R"(dnsd_pool_answers_total{zone="demo.example",pool="web",region="us",tier="primary"} 3)") !=
          std::string::npos);
}

TEST_CASE("page: in Chromium, every pool and member of the demo zone with its state, at a desk and on a phone",
          "[page][browser]") {
    if (!chromium_runs()) return;
    PageSession session;
    Browser& browser = session.browser;
    const uint16_t http = session.http;

    const json pools = browser.evaluate(R"([...document.querySelectorAll("section.pool")].map((s) => s.dataset.pool))");
    const json zone = json::parse(read_text(source_dir / "zones" / "demo.example.json"));
    std::set<std::string> pool_names;
    for (const auto& [name, body] : zone["pools"].items()) pool_names.insert(name);
    CHECK(pools.get<std::set<std::string>>() == pool_names);
    CHECK(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth") == true);
    browser.screenshot(artifact_dir / "status-page.png");
    require_png(artifact_dir / "status-page.png");

    // The explain box shows what a client gets: the answer the API reports.
    browser.click(R"(#explain-form input[name="client"])");
    browser.type("198.51.100.7");
    browser.click(R"(#explain-form input[name="name"])");
    browser.type("www.demo.example");
    browser.click(R"(#explain-form button[type="submit"])");
    std::string explained;
    REQUIRE(eventually([&] {
        const json text = browser.evaluate(R"(document.getElementById("explain-answer")?.textContent ?? null)");
        explained = text.is_null() ? "" : text.get<std::string>();
        return !explained.empty();
    }));
    const json report =
        json::parse(http_request(http, "GET", "/v1/explain?name=www.demo.example&type=A&client=198.51.100.7").body);
    REQUIRE_FALSE(report["answer"].empty());
    for (const auto& line : report["answer"]) CHECK(explained.find(line.get<std::string>()) != std::string::npos);

    // On a phone's width each row is a card whose cells name their column,
    // and nothing runs off the side.
    browser.set_viewport(390, 844, true);
    const auto drawn = [&] { return std::stoi(browser.evaluate("document.body.dataset.drawn").get<std::string>()); };
    const int before = drawn();
    REQUIRE(eventually([&] { return drawn() > before; }));
    CHECK(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth") == true);
    CHECK(browser.evaluate(R"(getComputedStyle(document.querySelector("tr.member")).display)") == "block");
    CHECK(browser.evaluate(R"(document.querySelector("tr.member td.state").dataset.label)") == "State");
    browser.screenshot(artifact_dir / "status-page-phone.png");
    require_png(artifact_dir / "status-page-phone.png");
}

TEST_CASE("page: in Chromium, a drain through the API shows within one refresh, and the drain button takes a member "
          "out of the answers",
          "[page][browser]") {
    if (!chromium_runs()) return;
    PageSession session;
    Browser& browser = session.browser;
    const uint16_t port = session.port;
    const uint16_t http = session.http;

    // Handed out first, so that each member drains for the answer's TTL (30 s).
    REQUIRE(answer(port, "failover.demo.example") == Addresses{"192.0.2.40", "192.0.2.41"});
    // The page notes the refresh that first draws the member draining.
    browser.evaluate(R"(window.drainingAt = null; new MutationObserver(() => {
        const row = document.querySelector('tr.member[data-pool="primary-backup"][data-address="192.0.2.41"]');
        if (window.drainingAt === null && row && row.dataset.state === "draining")
            window.drainingAt = Number(document.body.dataset.drawn);
    }).observe(document.body, {subtree: true, childList: true, attributes: true}); true)");
    REQUIRE(http_request(http, "PUT", member_path("primary-backup", "192.0.2.41"), R"({"state": "down"})").status == 200);
    const int begun = std::stoi(browser.evaluate("document.body.dataset.refresh").get<std::string>());
    REQUIRE(eventually([&] { return !browser.evaluate("window.drainingAt").is_null(); }));
    // Drawn by the refresh begun after the PUT, at the latest.
    CHECK(browser.evaluate("window.drainingAt").get<int>() <= begun + 1);
    CHECK(shown_members(browser)["primary-backup 192.0.2.41"].badge.find("draining") != std::string::npos);
    CHECK(browser.evaluate(R"(document.querySelector('tr.member[data-address="192.0.2.41"] .state').textContent)")
              .get<std::string>()
              .find("safe to remove") != std::string::npos);
    REQUIRE(answer(port, "failover.demo.example") == Addresses{"192.0.2.40"});

    browser.click(std::string(failover_row) + R"( button[data-action="down"])");
    REQUIRE(eventually([&] { return answer(port, "failover.demo.example") == Addresses{"198.51.100.40"}; }));
    CHECK(override_of(http, "192.0.2.40") == "down");
    REQUIRE(eventually([&] { return shown_members(browser)["primary-backup 192.0.2.40"].state == "draining"; }));
    browser.screenshot(artifact_dir / "status-page-drained.png");
    require_png(artifact_dir / "status-page-drained.png");

    // Auto from the page puts it back.
    browser.click(std::string(failover_row) + R"( button[data-action="auto"])");
    REQUIRE(eventually([&] { return answer(port, "failover.demo.example") == Addresses{"192.0.2.40"}; }));
    CHECK(override_of(http, "192.0.2.40").empty());
}

TEST_CASE("page: in Chromium, a click is not lost to a refresh that comes while the button is held", "[page][browser]") {
    if (!chromium_runs()) return;
    PageSession session;
    Browser& browser = session.browser;
    const uint16_t http = session.http;
    const auto refresh_number = [&] {
        return std::stoi(browser.evaluate("document.body.dataset.refresh").get<std::string>());
    };

    const json at = browser.press(std::string(failover_row) + R"( button[data-action="down"])");
    // Two refreshes begun: the first of them has read /v1/status while the
    // button was down.
    const int pressed = refresh_number();
    REQUIRE(eventually([&] { return refresh_number() >= pressed + 2; }));
    browser.release(at);
    REQUIRE(eventually([&] { return override_of(http, "192.0.2.40") == "down"; }, 30s));
    REQUIRE(eventually([&] { return shown_members(browser)["primary-backup 192.0.2.40"].state == "out"; }, 30s));
}

TEST_CASE("page: in Chromium, a change asks for the token when one is configured, and keeps it", "[page][browser]") {
    if (!chromium_runs()) return;
    PageSession session(R"({"http_token": "page-test-token"})");
    Browser& browser = session.browser;
    const uint16_t port = session.port;
    const uint16_t http = session.http;
    const auto form_shown = [&] { return browser.evaluate(R"(!document.getElementById("token-form").hidden)") == true; };
    const auto refused_note = [&] {
        return browser.evaluate(R"(document.getElementById("token-problem").textContent)").get<std::string>();
    };

    browser.click(std::string(failover_row) + R"( button[data-action="down"])");
    REQUIRE(eventually(form_shown));
    CHECK(refused_note().empty());
    browser.click("#token");
    browser.type("a-wrong-token");
    browser.click(R"(#token-form button[type="submit"])");
    REQUIRE(eventually([&] { return form_shown() && !refused_note().empty(); }));
    CHECK(override_of(http, "192.0.2.40").empty());

    browser.click("#token");
    browser.type("page-test-token");
    browser.click(R"(#token-form button[type="submit"])");
    REQUIRE(eventually([&] { return override_of(http, "192.0.2.40") == "down"; }));
    REQUIRE(eventually([&] { return !form_shown(); }));
    CHECK(answer(port, "failover.demo.example") == Addresses{"192.0.2.41"});

    // Kept for the session: the next change asks no more.
    browser.click(std::string(failover_row) + R"( button[data-action="auto"])");
    REQUIRE(eventually([&] { return override_of(http, "192.0.2.40").empty(); }));
    CHECK_FALSE(form_shown());
}

TEST_CASE("page: in Chromium, a fleet node shows the fleet's nodes and each node's vote on a member", "[page][browser][fleet]") {
    if (!chromium_runs()) return;
    NatsServer nats;
    PageSession session(json{{"fleet", {{"nats", {nats.url()}}, {"node", "page-node"}}}}.dump());
    Browser& browser = session.browser;
    const auto shown = [&](const std::string& expression) { return browser.evaluate(expression) == true; };
    REQUIRE(eventually([&] { return shown(R"(!document.getElementById("fleet-section").hidden)"); }));
    REQUIRE(eventually([&] { return shown(R"(document.querySelector('#fleet tr[data-node="page-node"]') !== null)"); }));
    // The loopback pool is probed: this node's vote on each member.
    REQUIRE(eventually([&] {
        return shown(R"([...document.querySelectorAll('tr.member[data-pool="loopback"] .vote')]
                        .filter((v) => v.textContent.startsWith("page-node")).length === 2)");
    }));
    browser.screenshot(artifact_dir / "status-page-fleet.png");
    require_png(artifact_dir / "status-page-fleet.png");
}

}  // namespace dnsd::e2e
