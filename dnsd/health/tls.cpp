#include "dnsd/health/tls.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <array>

namespace dnsd::health {

namespace {

std::string openssl_error(std::string_view what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return std::string(what);
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return std::string(what) + ": " + text.data();
}

}  // namespace

SSL_CTX* TlsContexts::get(bool verify, std::string& error) {
    auto& slot = verify ? verifying_ : trusting_;
    if (slot) return slot.get();
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        error = openssl_error("cannot create a TLS context");
        return nullptr;
    }
    // A health endpoint that closes without close_notify has still answered.
    SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (verify) {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
            error = openssl_error("cannot load the system's CA certificates");
            return nullptr;
        }
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    slot = std::move(ctx);
    return slot.get();
}

TlsSession::TlsSession(SSL_CTX* ctx, const std::string& host, const core::Address& address) {
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx));
    if (!ssl) return;
    BIO* from_peer = BIO_new(BIO_s_mem());
    BIO* to_peer = BIO_new(BIO_s_mem());
    if (from_peer == nullptr || to_peer == nullptr) {
        BIO_free(from_peer);
        BIO_free(to_peer);
        return;
    }
    SSL_set_bio(ssl.get(), from_peer, to_peer);
    SSL_set_connect_state(ssl.get());
    const bool named = !host.empty() && !core::Address::parse(host);
    // SNI carries names only (RFC 6066 §3); an address is verified as one.
    if (named) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
        const bool set = named ? SSL_set1_host(ssl.get(), host.c_str()) == 1
                               : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()),
                                                                address.to_string().c_str()) == 1;
        if (!set) return;
    }
    ssl_ = std::move(ssl);
    from_peer_ = from_peer;
    to_peer_ = to_peer;
}

void TlsSession::feed(std::span<const char> cipher) {
    BIO_write(from_peer_, cipher.data(), static_cast<int>(cipher.size()));
}

void TlsSession::feed_eof() {
    // An empty memory BIO now reads as end of stream instead of "retry".
    BIO_set_mem_eof_return(from_peer_, 0);
}

TlsSession::Step TlsSession::pump(std::string& to_peer, std::string& plain, std::string& error) {
    Step step = Step::more;
    auto failed = [&](int result) {
        const int code = SSL_get_error(ssl_.get(), result);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return false;
        if (code == SSL_ERROR_ZERO_RETURN) {
            step = Step::eof;
            return true;
        }
        const long verify = SSL_get_verify_result(ssl_.get());
        error = verify != X509_V_OK ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify)
                                    : openssl_error("TLS error");
        step = Step::error;
        return true;
    };
    if (!pending_.empty()) {
        const int written = SSL_write(ssl_.get(), pending_.data(), static_cast<int>(pending_.size()));
        if (written > 0)
            pending_.erase(0, static_cast<size_t>(written));
        else
            failed(written);
    }
    // Reading also drives the handshake; plain text only comes once the request is out.
    while (step == Step::more) {
        std::array<char, 16384> buffer;
        const int read = SSL_read(ssl_.get(), buffer.data(), static_cast<int>(buffer.size()));
        if (read <= 0) {
            if (!failed(read)) break;
        } else {
            plain.append(buffer.data(), static_cast<size_t>(read));
        }
    }
    std::array<char, 16384> buffer;
    for (int size; (size = BIO_read(to_peer_, buffer.data(), static_cast<int>(buffer.size()))) > 0;)
        to_peer.append(buffer.data(), static_cast<size_t>(size));
    return step;
}

}  // namespace dnsd::health
