// http and https checks: one HTTP/1.1 GET with "Connection: close", the
// response parsed by libhttp-parser; https over a TlsSession.
#include <http_parser.h>

#include <optional>
#include <utility>

#include "dnsd/health/connection.hpp"
#include "dnsd/health/probe.hpp"
#include "dnsd/health/tls.hpp"

namespace dnsd::health {

namespace {

// SPEC §5: expect_body is looked for in the first 64 KiB of the body only.
constexpr size_t body_window = 64 * 1024;

bool expected_status(const zone::Check& check, unsigned status) {
    for (const auto& [low, high] : check.expect_status)
        if (status >= low && status <= high) return true;
    return false;
}

std::string request_for(const zone::ProbeTarget& target) {
    const zone::Check& check = target.check;
    const bool https = check.type == zone::Check::Type::https;
    std::string host = check.host;
    if (host.empty()) {
        host = target.address.to_string();
        if (target.address.family == core::Family::v6) host = "[" + host + "]";
    }
    if (check.port != (https ? 443 : 80)) host += ":" + std::to_string(check.port);
    return "GET " + check.path + " HTTP/1.1\r\nHost: " + host +
           "\r\nUser-Agent: dnsd/" DNSD_VERSION "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

class HttpProbe final : public Probe, Connection::Events {
public:
    HttpProbe(uv_loop_t* loop, const zone::ProbeTarget& target, ProbeDone done)
        : check_(target.check), done_(std::move(done)), connection_(loop, *this) {
        http_parser_settings_init(&settings_);
        settings_.on_headers_complete = on_headers_complete;
        settings_.on_body = on_body;
        settings_.on_message_complete = on_message_complete;
        http_parser_init(&parser_, HTTP_RESPONSE);
        parser_.data = this;
    }

    void start(const zone::ProbeTarget& target, TlsContexts& tls) {
        request_ = request_for(target);
        if (check_.type == zone::Check::Type::https) {
            std::string error;
            SSL_CTX* ctx = tls.get(check_.verify_tls, error);
            if (ctx == nullptr) return report({false, error});
            tls_.emplace(ctx, check_.host, target.address);
            if (!tls_->valid()) return report({false, "cannot set up a TLS session"});
        }
        connection_.connect(target.address, check_.port);
    }

private:
    // After reporting, the connection is closed and done_ is empty: every
    // step that may report is followed by a check of done_.
    void on_connected() override {
        connection_.read_start();
        if (!done_) return;
        if (!tls_) return connection_.write(std::move(request_));
        tls_->write(request_);
        pump_tls();
    }

    void on_data(std::span<const char> bytes) override {
        if (!tls_) return parse(bytes);
        tls_->feed(bytes);
        pump_tls();
    }

    void on_eof() override {
        if (!tls_) return parse_eof();
        tls_->feed_eof();
        pump_tls();
    }

    void on_error(std::string reason) override { report({false, std::move(reason)}); }

    void pump_tls() {
        std::string to_peer, plain, error;
        const TlsSession::Step step = tls_->pump(to_peer, plain, error);
        if (step == TlsSession::Step::error) return report({false, error});
        if (!to_peer.empty()) connection_.write(std::move(to_peer));
        if (!done_) return;  // the write failed and reported
        if (!plain.empty()) parse(plain);
        if (step == TlsSession::Step::eof && done_) parse_eof();
    }

    void parse(std::span<const char> bytes) {
        http_parser_execute(&parser_, &settings_, bytes.data(), bytes.size());
        if (verdict_) return report(std::move(*verdict_));
        if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK)
            return report({false, std::string("bad HTTP response: ") +
                                      http_errno_description(HTTP_PARSER_ERRNO(&parser_))});
    }

    void parse_eof() {
        // A body delimited by the end of the connection completes here.
        if (HTTP_PARSER_ERRNO(&parser_) == HPE_OK) http_parser_execute(&parser_, &settings_, nullptr, 0);
        if (verdict_) return report(std::move(*verdict_));
        report({false, "connection closed before a complete response"});
    }

    static HttpProbe& self(http_parser* parser) { return *static_cast<HttpProbe*>(parser->data); }

    // Sets the result and stops the parser: the rest of the response does not matter.
    int decide(ProbeResult result) {
        verdict_ = std::move(result);
        http_parser_pause(&parser_, 1);
        return 0;
    }

    static int on_headers_complete(http_parser* parser) {
        HttpProbe& probe = self(parser);
        if (!expected_status(probe.check_, parser->status_code))
            return probe.decide({false, "status " + std::to_string(parser->status_code)});
        if (probe.check_.expect_body.empty()) return probe.decide({true, {}});
        return 0;
    }

    static int on_body(http_parser* parser, const char* data, size_t size) {
        HttpProbe& probe = self(parser);
        const std::string& needle = probe.check_.expect_body;
        const size_t before = probe.body_.size();
        probe.body_.append(data, std::min(size, body_window - before));
        // Only a match that ends in the new bytes is new.
        const size_t from = before >= needle.size() ? before - needle.size() + 1 : 0;
        if (probe.body_.find(needle, from) != std::string::npos) return probe.decide({true, {}});
        if (probe.body_.size() == body_window) return probe.decide({false, body_missing(needle)});
        return 0;
    }

    static int on_message_complete(http_parser* parser) {
        HttpProbe& probe = self(parser);
        // Reached only when a body was expected and not found.
        return probe.decide({false, body_missing(probe.check_.expect_body)});
    }

    static std::string body_missing(const std::string& needle) {
        return "body does not contain \"" + needle + "\"";
    }

    void report(ProbeResult result) {
        connection_.close();
        if (done_) std::exchange(done_, nullptr)(std::move(result));
    }

    const zone::Check check_;
    ProbeDone done_;
    std::string request_;
    std::optional<TlsSession> tls_;
    http_parser_settings settings_;
    http_parser parser_;
    std::string body_;
    std::optional<ProbeResult> verdict_;
    Connection connection_;  // last: closed first, so no event reaches a half-destroyed probe
};

}  // namespace

std::unique_ptr<Probe> start_http_probe(uv_loop_t* loop, const zone::ProbeTarget& target, TlsContexts& tls,
                                        ProbeDone done) {
    auto probe = std::make_unique<HttpProbe>(loop, target, std::move(done));
    probe->start(target, tls);
    return probe;
}

}  // namespace dnsd::health
