#pragma once
// TLS for https probes: OpenSSL over memory BIOs, so that the bytes travel on
// the probe's own libuv connection and nothing ever blocks.
#include <openssl/ssl.h>

#include <memory>
#include <span>
#include <string>

#include "dnsd/core/address.hpp"

namespace dnsd::health {

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// The monitor's two client contexts: one that verifies certificates against
// the system's trust store, one that does not. Made on first use.
class TlsContexts {
public:
    // nullptr when OpenSSL cannot make one (the probe then fails with `error`).
    SSL_CTX* get(bool verify, std::string& error);

private:
    std::unique_ptr<SSL_CTX, SslCtxFree> verifying_, trusting_;
};

// One client session. Plain text goes in with write(), cipher text from the
// peer with feed(); pump() advances the handshake and the exchange, and hands
// out what to send to the peer and what the peer said.
class TlsSession {
public:
    // `host`: SNI and the name to verify; when empty or an address literal,
    // no SNI is sent and verification checks `address`.
    TlsSession(SSL_CTX* ctx, const std::string& host, const core::Address& address);

    bool valid() const { return ssl_ != nullptr; }
    void write(std::string_view plain) { pending_.append(plain); }
    void feed(std::span<const char> cipher);
    void feed_eof();

    enum class Step { more, eof, error };
    // Appends to `to_peer` the bytes to send and to `plain` what was read.
    // error: `error` says why (handshake, certificate, protocol).
    Step pump(std::string& to_peer, std::string& plain, std::string& error);

private:
    std::unique_ptr<SSL, SslFree> ssl_;
    BIO* from_peer_ = nullptr;  // owned by ssl_
    BIO* to_peer_ = nullptr;    // owned by ssl_
    std::string pending_;       // plain text not yet taken by SSL_write
};

}  // namespace dnsd::health
