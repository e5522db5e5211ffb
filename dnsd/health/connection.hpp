#pragma once
// A probe's TCP connection on the control loop: connect, write, read until
// the peer closes. Events go to the owner, which may close() the Connection
// from inside any of them; after that nothing is reported.
#include <uv.h>

#include <array>
#include <span>
#include <string>

#include "dnsd/core/address.hpp"
#include "dnsd/core/uv_handle.hpp"

namespace dnsd::health {

class Connection {
public:
    struct Events {
        virtual void on_connected() = 0;
        virtual void on_data(std::span<const char> bytes) = 0;
        virtual void on_eof() = 0;
        virtual void on_error(std::string reason) = 0;

    protected:
        ~Events() = default;
    };

    Connection(uv_loop_t* loop, Events& events);

    // Starts connecting; on_connected or on_error follows (on_error possibly
    // before connect() returns).
    void connect(const core::Address& address, uint16_t port);
    // Queues `bytes`; a failure comes as on_error.
    void write(std::string bytes);
    // After on_connected: on_data for every read, then on_eof or on_error.
    void read_start();
    // Closes the socket now; later calls do nothing.
    void close() { tcp_.close(); }

private:
    struct Requests {
        uv_connect_t connect;
        std::array<char, 16384> buffer;  // one read's worth; reads are handed on at once
    };
    using Handle = core::UvHandle<uv_tcp_t, Connection, Requests>;

    static void on_connect(uv_connect_t* request, int status);
    static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buffer);
    static void on_read(uv_stream_t* stream, ssize_t size, const uv_buf_t* buffer);

    Events& events_;
    Handle tcp_;
};

}  // namespace dnsd::health
