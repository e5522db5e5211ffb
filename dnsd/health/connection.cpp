#include "dnsd/health/connection.hpp"

#include <memory>

namespace dnsd::health {

namespace {

// One write's request and bytes, freed in its callback (which libuv calls
// even when the connection closed first, with UV_ECANCELED).
struct Write {
    uv_write_t request;
    std::string bytes;
};

}  // namespace

Connection::Connection(uv_loop_t* loop, Events& events)
    : events_(events), tcp_(this, [loop](uv_tcp_t* tcp) { return uv_tcp_init(loop, tcp); }) {}

void Connection::connect(const core::Address& address, uint16_t port) {
    if (!tcp_) return events_.on_error("cannot create a socket");
    sockaddr_storage storage{};
    const std::string text = address.to_string();
    int status = address.family == core::Family::v4
                     ? uv_ip4_addr(text.c_str(), port, reinterpret_cast<sockaddr_in*>(&storage))
                     : uv_ip6_addr(text.c_str(), port, reinterpret_cast<sockaddr_in6*>(&storage));
    if (status == 0)
        status = uv_tcp_connect(&tcp_.requests().connect, tcp_.get(), reinterpret_cast<const sockaddr*>(&storage),
                                on_connect);
    if (status != 0) events_.on_error(uv_strerror(status));
}

void Connection::write(std::string bytes) {
    if (!tcp_) return;
    auto write = std::make_unique<Write>();
    write->bytes = std::move(bytes);
    uv_buf_t buffer = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    const int status = uv_write(&write->request, reinterpret_cast<uv_stream_t*>(tcp_.get()), &buffer, 1,
                                [](uv_write_t* request, int status) {
                                    std::unique_ptr<Write> done(reinterpret_cast<Write*>(request));
                                    Connection* self = Handle::owner_of(request->handle);
                                    if (self != nullptr && status != 0) self->events_.on_error(uv_strerror(status));
                                });
    if (status != 0) return events_.on_error(uv_strerror(status));
    write.release();  // the callback owns it now
}

void Connection::read_start() {
    if (!tcp_) return;
    const int status = uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_.get()), on_alloc, on_read);
    if (status != 0) events_.on_error(uv_strerror(status));
}

void Connection::on_connect(uv_connect_t* request, int status) {
    Connection* self = Handle::owner_of(request->handle);
    if (self == nullptr) return;
    if (status != 0) return self->events_.on_error(uv_strerror(status));
    self->events_.on_connected();
}

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buffer) {
    // The block outlives the owner, so its buffer is valid even for a read
    // that arrives while the owner is going away.
    Connection* self = Handle::owner_of(handle);
    if (self == nullptr) {
        *buffer = uv_buf_init(nullptr, 0);
        return;
    }
    auto& storage = self->tcp_.requests().buffer;
    *buffer = uv_buf_init(storage.data(), static_cast<unsigned>(storage.size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t size, const uv_buf_t* buffer) {
    Connection* self = Handle::owner_of(stream);
    if (self == nullptr || size == 0) return;
    if (size == UV_EOF) return self->events_.on_eof();
    if (size < 0) return self->events_.on_error(uv_strerror(static_cast<int>(size)));
    self->events_.on_data({buffer->base, static_cast<size_t>(size)});
}

}  // namespace dnsd::health
