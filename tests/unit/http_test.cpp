// The HTTP endpoint's pure parts: request parsing and its limits, routing,
// query strings, the response's bytes, and the Prometheus text format.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dnsd/control/exposition.hpp"
#include "dnsd/control/http.hpp"
#include "dnsd/control/router.hpp"
#include "tests/unit/exposition_check.hpp"

namespace {

using namespace dnsd::control;
using namespace dnsd::control::http;
using dnsd::test::check_exposition;
using Status = RequestParser::Status;

// Feeds `text` in pieces of `step` bytes until the parser is done; the bytes used in all.
Status feed_in_steps(RequestParser& parser, std::string_view text, size_t step, size_t& used_total) {
    used_total = 0;
    Status status = Status::incomplete;
    while (used_total < text.size() && status == Status::incomplete) {
        const std::string_view piece = text.substr(used_total, step);
        size_t used = 0;
        status = parser.feed(piece, used);
        used_total += used;
    }
    return status;
}

Status feed_all(RequestParser& parser, std::string_view text) {
    size_t used = 0;
    return feed_in_steps(parser, text, text.size(), used);
}

// What a router answered, captured synchronously.
struct Answer {
    Response response;
    bool called = false;
};

Respond capture(Answer& answer) {
    return [&answer](Response response) {
        answer.response = std::move(response);
        answer.called = true;
    };
}

Request request(std::string method, std::string path) {
    Request out;
    out.method = std::move(method);
    out.path = std::move(path);
    return out;
}

const std::string* find_header(const Response& response, std::string_view name) {
    for (const auto& h : response.headers)
        if (h.name == name) return &h.value;
    return nullptr;
}

}  // namespace

TEST_CASE("A request is parsed into method, path, query, headers and body", "[http]") {
    RequestParser parser({});
    const std::string text =
        "PUT /v1/zones/a/pools/b?x=1&y=2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Content-Length: 17\r\n\r\n{\"state\": \"down\"}";
    for (size_t step : {text.size(), size_t{1}, size_t{7}}) {
        INFO("fed " << step << " bytes at a time");
        parser.reset();
        size_t used = 0;
        REQUIRE(feed_in_steps(parser, text, step, used) == Status::complete);
        CHECK(used == text.size());
        const Request& r = parser.request();
        CHECK(r.method == "PUT");
        CHECK(r.path == "/v1/zones/a/pools/b");
        CHECK(r.query == "x=1&y=2");
        REQUIRE(r.header("content-type") != nullptr);
        CHECK(*r.header("CONTENT-TYPE") == "application/json");
        CHECK(r.header("Authorization") == nullptr);
        CHECK(r.body == R"({"state": "down"})");
        CHECK(parser.keep_alive());
    }
}

TEST_CASE("Pipelined requests are taken one at a time", "[http]") {
    RequestParser parser({});
    const std::string first = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "GET /v1/status HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string both = first + second;
    size_t used = 0;
    REQUIRE(parser.feed(both, used) == Status::complete);
    CHECK(used == first.size());
    CHECK(parser.request().path == "/metrics");
    parser.reset();
    CHECK_FALSE(parser.started());
    REQUIRE(parser.feed(std::string_view(both).substr(used), used) == Status::complete);
    CHECK(used == second.size());
    CHECK(parser.request().path == "/v1/status");
}

TEST_CASE("A chunked body is reassembled", "[http]") {
    RequestParser parser({});
    REQUIRE(feed_all(parser, "POST /v1/reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") == Status::complete);
    CHECK(parser.request().body == "abcde");
}

TEST_CASE("Keep-alive follows the HTTP version and Connection header", "[http]") {
    RequestParser parser({});
    REQUIRE(feed_all(parser, "GET / HTTP/1.0\r\n\r\n") == Status::complete);
    CHECK_FALSE(parser.keep_alive());
    parser.reset();
    REQUIRE(feed_all(parser, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == Status::complete);
    CHECK(parser.keep_alive());
    parser.reset();
    REQUIRE(feed_all(parser, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n") == Status::complete);
    CHECK_FALSE(parser.keep_alive());
}

TEST_CASE("A partial request is incomplete and started", "[http]") {
    RequestParser parser({});
    CHECK_FALSE(parser.started());
    CHECK(feed_all(parser, "GET /metr") == Status::incomplete);
    CHECK(parser.started());
}

TEST_CASE("Malformed requests fail with 400 and a reason", "[http]") {
    for (std::string text : std::vector<std::string>{"GARBAGE\r\n\r\n", "GET /x HTTP/9.Z\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                             "GET http://example.com/x HTTP/1.1\r\n\r\n", "GET * HTTP/1.1\r\n\r\n",
                             std::string("GET /x HTTP/1.1\r\nHost: a\0b\r\n\r\n", 30),
                             "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                             "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"}) {
        INFO(text);
        RequestParser parser({});
        REQUIRE(feed_all(parser, text) == Status::failed);
        CHECK(parser.error().status == 400);
        CHECK(parser.error().body.find("\"error\"") != std::string::npos);
        size_t used = 0;
        CHECK(parser.feed("GET / HTTP/1.1\r\n\r\n", used) == Status::failed);  // stays failed
    }
}

TEST_CASE("Oversized headers get 431, an oversized body 413", "[http]") {
    Limits limits;
    limits.header_bytes = 1024;
    limits.body_bytes = 100;
    SECTION("a long header") {
        RequestParser parser(limits);
        REQUIRE(feed_all(parser, "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n") == Status::failed);
        CHECK(parser.error().status == 431);
    }
    SECTION("many headers") {
        std::string text = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 200; ++i) text += "X-" + std::to_string(i) + ": value\r\n";
        RequestParser parser(limits);
        size_t used = 0;
        REQUIRE(feed_in_steps(parser, text + "\r\n", 10, used) == Status::failed);
        CHECK(parser.error().status == 431);
    }
    SECTION("a long URL") {
        RequestParser parser(limits);
        REQUIRE(feed_all(parser, "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n") == Status::failed);
        CHECK(parser.error().status == 431);
    }
    SECTION("a large Content-Length, refused before the body comes") {
        RequestParser parser(limits);
        REQUIRE(feed_all(parser, "PUT /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n") == Status::failed);
        CHECK(parser.error().status == 413);
    }
    SECTION("a chunked body that grows too large") {
        RequestParser parser(limits);
        std::string text = "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 3; ++i) text += "40\r\n" + std::string(64, 'b') + "\r\n";
        REQUIRE(feed_all(parser, text) == Status::failed);
        CHECK(parser.error().status == 413);
    }
    SECTION("a body at the limit is fine") {
        RequestParser parser(limits);
        REQUIRE(feed_all(parser, "PUT /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'c')) ==
                Status::complete);
        CHECK(parser.request().body.size() == 100);
    }
}

TEST_CASE("Percent-decoding and query strings", "[http]") {
    CHECK(percent_decode("a%20b%2Fc", false) == "a b/c");
    CHECK(percent_decode("a+b", false) == "a+b");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("%3a%3A", false) == "::");
    CHECK_FALSE(percent_decode("%", false));
    CHECK_FALSE(percent_decode("%4", false));
    CHECK_FALSE(percent_decode("%zz", false));

    auto params = parse_query("name=www.pools.test&type=AAAA&client=192.0.2.1%2F24&&flag");
    REQUIRE(params);
    REQUIRE(params->find("name"));
    CHECK(*params->find("name") == "www.pools.test");
    CHECK(*params->find("type") == "AAAA");
    CHECK(*params->find("client") == "192.0.2.1/24");
    REQUIRE(params->find("flag"));
    CHECK(params->find("flag")->empty());
    CHECK(params->find("missing") == nullptr);
    CHECK_FALSE(parse_query("a=%G0"));
}

TEST_CASE("The router dispatches by path and method", "[http]") {
    Router router;
    std::vector<std::string> calls;
    router.add("GET", "/metrics", [&](Request&, const Params&, Respond respond) {
        calls.push_back("metrics");
        respond(Response{});
    });
    router.add("PUT", "/v1/zones/{zone}/pools/{pool}/members/{address}",
               [&](Request&, const Params& captures, Respond respond) {
                   calls.push_back(*captures.find("zone") + "|" + *captures.find("pool") + "|" +
                                   *captures.find("address"));
                   respond(Response{});
               });
    router.add("DELETE", "/v1/zones/{zone}/pools/{pool}/members/{address}",
               [&](Request&, const Params&, Respond respond) { respond(Response{}); });

    SECTION("a match") {
        Answer answer;
        auto r = request("GET", "/metrics");
        router.handle(r, capture(answer));
        CHECK(answer.called);
        CHECK(answer.response.status == 200);
        CHECK(calls == std::vector<std::string>{"metrics"});
    }
    SECTION("captures are decoded") {
        Answer answer;
        auto r = request("PUT", "/v1/zones/pools.test/pools/web/members/2001%3Adb8%3A%3A1");
        router.handle(r, capture(answer));
        CHECK(answer.response.status == 200);
        CHECK(calls == std::vector<std::string>{"pools.test|web|2001:db8::1"});
    }
    SECTION("an unknown path is 404") {
        for (const char* path : {"/", "/metrics/", "/metricsx", "/v1/zones/a/pools/b/members", "/v1/zones//pools/b/members/c"}) {
            INFO(path);
            Answer answer;
            auto r = request("GET", path);
            router.handle(r, capture(answer));
            CHECK(answer.response.status == 404);
        }
        CHECK(calls.empty());
    }
    SECTION("a known path with another method is 405 with Allow") {
        Answer answer;
        auto r = request("POST", "/v1/zones/a/pools/b/members/192.0.2.1");
        router.handle(r, capture(answer));
        CHECK(answer.response.status == 405);
        REQUIRE(find_header(answer.response, "Allow"));
        CHECK(*find_header(answer.response, "Allow") == "PUT, DELETE");
        CHECK(calls.empty());

        Answer metrics;
        auto m = request("POST", "/metrics");
        router.handle(m, capture(metrics));
        CHECK(metrics.response.status == 405);
        REQUIRE(find_header(metrics.response, "Allow"));
        CHECK(*find_header(metrics.response, "Allow") == "GET");
    }
    SECTION("a bad escape in a captured segment is 400") {
        Answer answer;
        auto r = request("PUT", "/v1/zones/a/pools/b/members/%zz");
        router.handle(r, capture(answer));
        CHECK(answer.response.status == 400);
        CHECK(calls.empty());
    }
}

TEST_CASE("A response is written with its length and connection header", "[http]") {
    Response response = Response::error(405, "no \"way\"");
    response.headers.push_back({"Allow", "GET"});
    const std::string text = serialize(response, false);
    const std::string body = "{\"error\":\"no \\\"way\\\"\"}\n";
    CHECK(text == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\nAllow: GET\r\n\r\n" + body);
    CHECK(serialize(Response{}, true).find("\r\nConnection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("The exposition writer's output passes the format checker", "[http][metrics]") {
    Exposition out;
    out.family("dnsd_queries_total", MetricType::counter, "Queries.\nSecond line with a \\ backslash.");
    out.sample_integer("dnsd_queries_total", {{"transport", "udp"}, {"type", "A"}}, 18446744073709551615ull);
    out.sample_integer("dnsd_queries_total", {{"transport", "tcp"}, {"type", "A"}}, 0);
    out.family("dnsd_member_up", MetricType::gauge, "Up.");
    out.sample("dnsd_member_up", {{"member", "quote \" backslash \\ newline \n end"}}, 1);
    out.family("dnsd_uptime_seconds", MetricType::gauge, "Uptime.");
    out.sample("dnsd_uptime_seconds", {}, 12.5);
    out.family("dnsd_probe_duration_seconds", MetricType::histogram, "Latency.");
    const std::vector<double> bounds{0.001, 0.5, 1};
    const std::vector<uint64_t> cumulative{1, 3, 3};
    const Label label{"check", "tcp"};
    out.histogram("dnsd_probe_duration_seconds", {&label, 1}, bounds, cumulative, 5, 3.25);

    const std::string text = out.text();
    INFO(text);
    const auto checked = check_exposition(text);
    INFO(checked.error_text());
    CHECK(checked.errors.empty());
    CHECK(text.find("# HELP dnsd_queries_total Queries.\\nSecond line with a \\\\ backslash.\n") != std::string::npos);
    CHECK(text.find("dnsd_queries_total{transport=\"udp\",type=\"A\"} 18446744073709551615\n") != std::string::npos);
    CHECK(text.find(R"(dnsd_member_up{member="quote \" backslash \\ newline \n end"} 1)") != std::string::npos);
    CHECK(checked.value("dnsd_member_up", {{"member", "quote \" backslash \\ newline \n end"}}) == 1);
    CHECK(checked.value("dnsd_uptime_seconds") == 12.5);
    CHECK(checked.value("dnsd_probe_duration_seconds_bucket", {{"check", "tcp"}, {"le", "0.5"}}) == 3);
    CHECK(checked.value("dnsd_probe_duration_seconds_bucket", {{"check", "tcp"}, {"le", "+Inf"}}) == 5);
    CHECK(checked.value("dnsd_probe_duration_seconds_count", {{"check", "tcp"}}) == 5);
    CHECK(checked.value("dnsd_probe_duration_seconds_sum", {{"check", "tcp"}}) == 3.25);
    CHECK(checked.sum("dnsd_queries_total", {{"type", "A"}}) == Approx(18446744073709551615.0));
}

TEST_CASE("Sample values are formatted as Prometheus reads them", "[http][metrics]") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(42) == "42");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(1.0 / 0.0) == "+Inf");
    CHECK(format_value(-1.0 / 0.0) == "-Inf");
    CHECK(format_value(0.0 / 0.0) == "NaN");
    CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}

TEST_CASE("The format checker rejects what Prometheus would", "[http][metrics]") {
    const char* good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
    CHECK(check_exposition(good).errors.empty());
    for (const char* bad : {
             "a_total 1\n",                                                  // no TYPE
             "# TYPE a counter\na 1\n",                                      // counter not *_total
             "# TYPE a_total counter\na_total -1\n",                         // negative counter
             "# TYPE 9a gauge\n9a 1\n",                                      // bad metric name
             "# TYPE a gauge\na{__x=\"1\"} 1\n",                             // reserved label name
             "# TYPE a gauge\na{x-y=\"1\"} 1\n",                             // bad label name
             "# TYPE a gauge\na{x=1} 1\n",                                   // unquoted label value
             "# TYPE a gauge\na{x=\"\\t\"} 1\n",                             // bad escape
             "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",                       // label twice
             "# TYPE a gauge\na one\n",                                      // bad value
             "# TYPE a gauge\na 1",                                          // no final newline
             "# TYPE a gauge\na 1\na 2\n",                                   // one series twice
             "# TYPE a gauge\n# TYPE a gauge\na 1\n",                        // TYPE twice
             "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n",     // family not in one group
             "# TYPE a gauge\na 1\n# TYPE a_x gauge\na_x 1\n# TYPE a counter\n",  // TYPE after samples
             "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
             "h_sum 1\nh_count 2\n",  // not cumulative
             "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n",  // no +Inf
             "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 2\n",  // count ≠ +Inf
             "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",     // no _sum
             "# TYPE h histogram\nh_bucket 2\nh_sum 1\nh_count 2\n",         // bucket without le
         }) {
        INFO(bad);
        CHECK_FALSE(check_exposition(bad).errors.empty());
    }
}
