#include "dnsd/net/tcp.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dnsd/core/hash.hpp"

namespace dnsd::net {

namespace {

// A client's unread answers may pile up to this many bytes (plus one batch)
// before we stop reading its queries; reading resumes once they drain.
constexpr size_t max_pending_write_bytes = 128 * 1024;
constexpr size_t max_message = 65535;
constexpr size_t max_frame = 2 + max_message;
// The worker's batch of answers holds at least one more frame until it is sent.
constexpr size_t batch_size = 2 * max_frame;
// Room for a few pipelined queries; grows to fit one larger message.
constexpr size_t initial_read_buffer_size = 4096;
// How long shutdown waits for clients to take answers already written.
constexpr uint64_t shutdown_grace_ms = 2000;
constexpr int listen_backlog = 1024;

uv_handle_t* as_handle(auto* handle) { return reinterpret_cast<uv_handle_t*>(handle); }
uv_stream_t* as_stream(auto* handle) { return reinterpret_cast<uv_stream_t*>(handle); }

}  // namespace

struct Tcp::Connection {
    explicit Connection(Tcp& owner) : tcp(owner), in(initial_read_buffer_size) {}

    Tcp& tcp;
    std::list<Connection>::iterator self;
    uv_tcp_t stream;
    uv_timer_t idle_timer;
    core::Address peer;
    std::vector<uint8_t> in;  // received bytes not yet answered: in[0, used)
    size_t used = 0;
    int open_handles = 0;
    bool holds_slot = false;  // counted in open_connections
    bool counted_client = false;  // counted in its address's connections
    uint64_t message_deadline_ms = 0;  // loop time by which the partial message in `in` must be whole; 0: none
    bool reading = false;
    bool draining = false;    // no more reading: close once the answers are written
    bool closing = false;

    // An answer that did not fit in the socket's send buffer.
    struct Write {
        uv_write_t request;
        Connection* connection;
        std::unique_ptr<uint8_t[]> bytes;
    };

    size_t pending_write_bytes() const { return stream.write_queue_size; }

    bool read_peer() {
        sockaddr_storage address{};
        int size = sizeof address;
        if (uv_tcp_getpeername(&stream, reinterpret_cast<sockaddr*>(&address), &size) != 0) return false;
        peer = core::Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&address));
        return true;
    }

    void start() {
        uv_tcp_nodelay(&stream, 1);
        touch();
        resume_reading();
    }

    // Activity: bytes moved in either direction restart the idle timeout, but
    // never past the deadline of a message begun and not yet whole, so that
    // trickling bytes cannot hold a connection. The connection becomes the
    // most recently active.
    void touch() {
        uint64_t timeout = tcp.settings_.idle_timeout_ms;
        if (message_deadline_ms != 0) {
            const uint64_t now = uv_now(tcp.loop_);
            timeout = std::min(timeout, message_deadline_ms > now ? message_deadline_ms - now : 0);
        }
        uv_timer_start(&idle_timer, on_idle, timeout, 0);
        tcp.connections_.splice(tcp.connections_.end(), tcp.connections_, self);
    }

    void resume_reading() {
        if (reading || draining || closing) return;
        if (uv_read_start(as_stream(&stream), on_alloc, on_read) != 0) {
            close();
            return;
        }
        reading = true;
    }

    void pause_reading() {
        if (!reading) return;
        uv_read_stop(as_stream(&stream));
        reading = false;
    }

    // Answers every whole message in the buffer, in order, until the client's
    // unread answers pile up; keeps a partial message for the next read. The
    // answers to one read leave in one write, from the worker's batch buffer.
    void process() {
        uint8_t* const batch = tcp.batch_.get();
        size_t batched = 0;
        size_t position = 0;
        while (!closing && pending_write_bytes() <= max_pending_write_bytes && used - position >= 2) {
            const size_t length = size_t{in[position]} << 8 | in[position + 1];
            // There is no empty DNS message: the client's framing is broken,
            // and nothing after this point can be trusted.
            if (length == 0) {
                send({batch, batched});
                close();
                return;
            }
            if (used - position - 2 < length) break;
            if (batch_size - batched < max_frame) {
                send({batch, batched});
                batched = 0;
            }
            const size_t size = tcp.responder_.answer({in.data() + position + 2, length}, peer, answer::Transport::tcp,
                                                      {batch + batched + 2, max_message});
            position += 2 + length;
            if (size == 0) continue;
            batch[batched] = static_cast<uint8_t>(size >> 8);
            batch[batched + 1] = static_cast<uint8_t>(size);
            batched += 2 + size;
        }
        send({batch, batched});
        if (closing) return;
        std::memmove(in.data(), in.data() + position, used - position);
        used -= position;
        // A partial message left behind began with this read (or, after a
        // pause, is looked at now): its time starts.
        if (used == 0)
            message_deadline_ms = 0;
        else if (position > 0 || message_deadline_ms == 0)
            message_deadline_ms = uv_now(tcp.loop_) + tcp.settings_.idle_timeout_ms;
        if (used >= 2) {
            const size_t needed = 2 + (size_t{in[0]} << 8 | in[1]);
            if (needed > in.size()) in.resize(needed);
        }
        if (pending_write_bytes() > max_pending_write_bytes)
            pause_reading();
        else
            resume_reading();
    }

    // Writes at once what the socket takes; queues the rest, in order.
    void send(std::span<const uint8_t> bytes) {
        if (bytes.empty() || closing) return;
        size_t written = 0;
        if (pending_write_bytes() == 0) {
            uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                                       static_cast<unsigned>(bytes.size()));
            const int result = uv_try_write(as_stream(&stream), &buf, 1);
            if (result < 0 && result != UV_EAGAIN) {
                close();
                return;
            }
            if (result > 0) {
                written = static_cast<size_t>(result);
                touch();
            }
        }
        if (written == bytes.size()) return;
        const size_t rest = bytes.size() - written;
        auto write = std::make_unique<Write>();
        write->request.data = write.get();
        write->connection = this;
        write->bytes.reset(new uint8_t[rest]);
        std::memcpy(write->bytes.get(), bytes.data() + written, rest);
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.get()), static_cast<unsigned>(rest));
        if (uv_write(&write->request, as_stream(&stream), &buf, 1, on_written) != 0) {
            close();
            return;
        }
        write.release();  // owned by the request until on_written
    }

    // Stops reading; closes now, or once the answers already queued are written.
    void drain() {
        pause_reading();
        draining = true;
        if (pending_write_bytes() == 0) close();
    }

    void close() {
        if (closing) return;
        closing = true;
        reading = false;
        uv_close(as_handle(&stream), on_closed);
        uv_close(as_handle(&idle_timer), on_closed);
    }

    static Connection& of(void* data) { return *static_cast<Connection*>(data); }

    static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
        Connection& c = of(handle->data);
        // process() leaves room: a partial message always fits in `in`.
        *buf = uv_buf_init(reinterpret_cast<char*>(c.in.data() + c.used),
                           static_cast<unsigned>(c.in.size() - c.used));
    }

    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
        Connection& c = of(stream->data);
        if (nread > 0) {
            c.used += static_cast<size_t>(nread);
            c.process();
            if (!c.closing) c.touch();
        } else if (nread == UV_EOF) {
            // The client sent all it will; it still gets the answers.
            c.drain();
        } else if (nread < 0) {
            c.close();
        }
    }

    static void on_written(uv_write_t* request, int status) {
        std::unique_ptr<Write> write(static_cast<Write*>(request->data));
        Connection& c = *write->connection;
        if (c.closing) return;
        if (status < 0) {
            c.close();
            return;
        }
        c.touch();
        if (c.draining) {
            if (c.pending_write_bytes() == 0) c.close();
        } else if (!c.reading && c.pending_write_bytes() <= max_pending_write_bytes) {
            // The client caught up: answer what it sent meanwhile, read on.
            c.process();
        }
    }

    static void on_idle(uv_timer_t* timer) {
        Connection& c = of(timer->data);
        c.tcp.responder_.counters().tcp_idle_closed.add();
        c.close();
    }

    static void on_closed(uv_handle_t* handle) {
        Connection& c = of(handle->data);
        if (--c.open_handles == 0) c.tcp.release(c);
    }
};

TcpShared::TcpShared() : clients_(new std::atomic<uint32_t>[client_slots]) {
    for (size_t i = 0; i < client_slots; ++i) clients_[i].store(0, std::memory_order_relaxed);
    // Keyed per process, so that nobody outside can pick addresses that share a counter.
    seed_ = 0;
    if (::getrandom(&seed_, sizeof seed_, 0) != static_cast<ssize_t>(sizeof seed_)) seed_ = core::golden_gamma;
}

std::atomic<uint32_t>& TcpShared::count_of(const core::Address& client) {
    return clients_[core::stable_hash({client.bytes.data(), client.size()}, seed_) & (client_slots - 1)];
}

bool TcpShared::add_client(const core::Address& client, uint32_t cap) {
    std::atomic<uint32_t>& count = count_of(client);
    if (count.fetch_add(1, std::memory_order_relaxed) < cap) return true;
    count.fetch_sub(1, std::memory_order_relaxed);
    return false;
}

void TcpShared::remove_client(const core::Address& client) {
    count_of(client).fetch_sub(1, std::memory_order_relaxed);
}

Tcp::Tcp(uv_loop_t* loop, Responder& responder, const TcpSettings& settings, TcpShared& shared)
    : loop_(loop),
      responder_(responder),
      settings_(settings),
      shared_(shared),
      batch_(new uint8_t[batch_size]) {
    uv_timer_init(loop_, &grace_timer_);
    grace_timer_.data = this;
}

Tcp::~Tcp() = default;

void Tcp::listen(Fd fd, const core::Endpoint& endpoint) {
    auto listener = std::make_unique<Listener>();
    listener->tcp = this;
    listener->handle.data = listener.get();
    if (int error = uv_tcp_init(loop_, &listener->handle); error != 0)
        throw std::runtime_error("cannot listen on tcp " + endpoint.to_string() + ": " + uv_strerror(error));
    Listener& adopted = *listeners_.emplace_back(std::move(listener));
    int error = uv_tcp_open(&adopted.handle, fd.get());
    if (error == 0) {
        fd.release();
        error = uv_listen(as_stream(&adopted.handle), listen_backlog, on_connection);
    }
    if (error != 0)
        throw std::runtime_error("cannot listen on tcp " + endpoint.to_string() + ": " + uv_strerror(error));
}

void Tcp::on_connection(uv_stream_t* server, int status) {
    Tcp& tcp = *static_cast<Listener*>(server->data)->tcp;
    if (status < 0) {
        spdlog::warn("tcp accept failed: {}", uv_strerror(status));
        return;
    }
    tcp.accept(server);
}

void Tcp::accept(uv_stream_t* server) {
    Connection& c = connections_.emplace_back(*this);
    c.self = std::prev(connections_.end());
    c.stream.data = &c;
    c.idle_timer.data = &c;
    uv_tcp_init(loop_, &c.stream);
    uv_timer_init(loop_, &c.idle_timer);
    c.open_handles = 2;
    if (uv_accept(server, as_stream(&c.stream)) != 0 || !c.read_peer()) {
        c.close();
        return;
    }
    // Refused connections are accepted and closed at once, so that the client
    // hears no rather than waiting in the backlog. One address may hold only
    // its share.
    if (!shared_.add_client(c.peer, settings_.max_connections_per_client)) {
        responder_.counters().tcp_client_refused.add();
        c.close();
        return;
    }
    c.counted_client = true;
    // At the global cap the longest-idle connection makes room, so that
    // clients holding connections without using them cannot shut out new ones.
    std::atomic<uint32_t>& open = shared_.open_connections();
    if (open.fetch_add(1, std::memory_order_relaxed) >= settings_.max_connections) {
        open.fetch_sub(1, std::memory_order_relaxed);
        if (!evict_longest_idle(c)) {
            responder_.counters().tcp_refused.add();
            c.close();
            return;
        }
        responder_.counters().tcp_evicted.add();
    }
    c.holds_slot = true;
    responder_.counters().tcp_accepted.add();
    c.start();
}

// Only this worker's connections are looked at: SO_REUSEPORT spreads
// connections evenly over the workers, so its longest idle one is among the
// longest idle of all, and no worker ever touches another's.
bool Tcp::evict_longest_idle(Connection& keep) {
    for (Connection& c : connections_) {
        if (&c == &keep || c.closing || !c.holds_slot) continue;
        c.holds_slot = false;  // its slot passes to `keep`
        c.close();
        return true;
    }
    return false;
}

void Tcp::release(Connection& connection) {
    if (connection.holds_slot) shared_.open_connections().fetch_sub(1, std::memory_order_relaxed);
    if (connection.counted_client) shared_.remove_client(connection.peer);
    connections_.erase(connection.self);
    if (shutting_down_ && connections_.empty()) close_grace_timer();
}

void Tcp::shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    for (auto& listener : listeners_) uv_close(as_handle(&listener->handle), nullptr);
    for (Connection& c : connections_) c.drain();
    // Connections that drained at once are closing; the rest get the grace period.
    bool all_closing = true;
    for (const Connection& c : connections_) all_closing = all_closing && c.closing;
    if (all_closing)
        close_grace_timer();
    else
        uv_timer_start(&grace_timer_, on_grace_expired, shutdown_grace_ms, 0);
}

void Tcp::on_grace_expired(uv_timer_t* timer) {
    Tcp& tcp = *static_cast<Tcp*>(timer->data);
    for (Connection& c : tcp.connections_) c.close();
    tcp.close_grace_timer();
}

void Tcp::close_grace_timer() {
    if (!uv_is_closing(as_handle(&grace_timer_))) uv_close(as_handle(&grace_timer_), nullptr);
}

}  // namespace dnsd::net
