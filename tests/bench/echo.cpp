// The no-work floor for tools/bench: a UDP server that does nothing but turn
// each query into a "response" (QR set, the rest sent back as it came), on
// one thread. What it reaches is what the kernel allows one core to move,
// against which a DNS server's figure is read.
//
//   dnsd_bench_echo --listen ADDR:PORT [--batch B] [--libuv]
//
// By default it reads with recvmmsg and answers with sendmmsg, B packets per
// call. --libuv does it the way a plain libuv server would: uv_udp with
// UV_UDP_RECVMMSG and one uv_udp_try_send per packet. Stops on SIGTERM or
// SIGINT and prints how many packets it answered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile sig_atomic_t stopping = 0;

void on_stop_signal(int) { stopping = 1; }

constexpr size_t max_packet = 4096;
constexpr int socket_buffer = 4 << 20;

bool parse_listen(const std::string& text, sockaddr_storage& address, socklen_t& length) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    if (auto [end, error] = std::from_chars(first, last, port); error != std::errc() || end != last || port > 65535)
        return false;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(uint16_t(port));
        length = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(port));
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

// A received packet is answered only if it is a query: a response must never be echoed.
bool make_response(uint8_t* packet, size_t length) {
    if (length < 12 || (packet[2] & 0x80) != 0) return false;
    packet[2] |= 0x80;
    return true;
}

int run_mmsg(const sockaddr_storage& address, socklen_t length, unsigned batch, uint64_t& answered) {
    const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::perror("socket"), 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &socket_buffer, sizeof socket_buffer) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer, sizeof socket_buffer);
    // Wakes an idle receive now and then, so that a stop signal that came just before it is seen.
    const timeval idle_wakeup{0, 200'000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle_wakeup, sizeof idle_wakeup);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) return std::perror("bind"), 1;

    std::vector<uint8_t> buffers(size_t(batch) * max_packet);
    std::vector<sockaddr_storage> peers(batch);
    std::vector<iovec> receive_vectors(batch), send_vectors(batch);
    std::vector<mmsghdr> received(batch), replies(batch);
    for (unsigned i = 0; i < batch; ++i) receive_vectors[i] = {buffers.data() + size_t(i) * max_packet, max_packet};

    std::fprintf(stderr, "echo ready\n");
    while (!stopping) {
        for (unsigned i = 0; i < batch; ++i) {
            received[i].msg_hdr = {};
            received[i].msg_hdr.msg_name = &peers[i];
            received[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            received[i].msg_hdr.msg_iov = &receive_vectors[i];
            received[i].msg_hdr.msg_iovlen = 1;
        }
        const int count = recvmmsg(fd, received.data(), batch, MSG_WAITFORONE, nullptr);
        if (count < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return std::perror("recvmmsg"), 1;
        }
        unsigned replying = 0;
        for (int i = 0; i < count; ++i) {
            auto* packet = static_cast<uint8_t*>(receive_vectors[i].iov_base);
            if (!make_response(packet, received[i].msg_len)) continue;
            send_vectors[replying] = {packet, received[i].msg_len};
            replies[replying].msg_hdr = {};
            replies[replying].msg_hdr.msg_name = &peers[i];
            replies[replying].msg_hdr.msg_namelen = received[i].msg_hdr.msg_namelen;
            replies[replying].msg_hdr.msg_iov = &send_vectors[replying];
            replies[replying].msg_hdr.msg_iovlen = 1;
            ++replying;
        }
        for (unsigned done = 0; done < replying;) {
            const int sent = sendmmsg(fd, replies.data() + done, replying - done, 0);
            if (sent < 0) {
                if (errno == EINTR) continue;
                ++done;  // a reply the kernel refused (e.g. ECONNREFUSED) is dropped, as a server would
                continue;
            }
            done += unsigned(sent);
            answered += unsigned(sent);
        }
    }
    close(fd);
    return 0;
}

// libuv's receive buffer: with UV_UDP_RECVMMSG it splits one buffer into
// 64 KiB chunks, one per packet of a recvmmsg call.
constexpr size_t libuv_chunk = 64 * 1024;

struct LibuvEcho {
    uv_udp_t udp{};
    uv_signal_t term{};
    uv_signal_t interrupt{};
    std::vector<char> buffer;
    uint64_t answered = 0;
};

int run_libuv(const sockaddr_storage& address, unsigned batch, uint64_t& answered) {
    uv_loop_t* loop = uv_default_loop();
    LibuvEcho echo;
    echo.buffer.resize(batch * libuv_chunk);
    echo.udp.data = &echo;
    if (const int error = uv_udp_init_ex(loop, &echo.udp, address.ss_family | UV_UDP_RECVMMSG); error != 0)
        return std::fprintf(stderr, "uv_udp_init_ex: %s\n", uv_strerror(error)), 1;
    if (const int error = uv_udp_bind(&echo.udp, reinterpret_cast<const sockaddr*>(&address), 0); error != 0)
        return std::fprintf(stderr, "bind: %s\n", uv_strerror(error)), 1;
    int buffer_size = socket_buffer;
    uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&echo.udp), &buffer_size);

    const auto allocate = [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<LibuvEcho*>(handle->data);
        *buf = uv_buf_init(self->buffer.data(), unsigned(self->buffer.size()));
    };
    const auto on_receive = [](uv_udp_t* udp, ssize_t nread, const uv_buf_t* buf, const sockaddr* peer, unsigned) {
        if (nread <= 0 || peer == nullptr) return;  // the end of a recvmmsg batch, or nothing
        auto* packet = reinterpret_cast<uint8_t*>(buf->base);
        if (!make_response(packet, size_t(nread))) return;
        const uv_buf_t reply = uv_buf_init(buf->base, unsigned(nread));
        if (uv_udp_try_send(udp, &reply, 1, peer) >= 0) ++static_cast<LibuvEcho*>(udp->data)->answered;
    };
    uv_udp_recv_start(&echo.udp, allocate, on_receive);

    const auto on_signal = [](uv_signal_t* signal, int) { uv_stop(signal->loop); };
    uv_signal_init(loop, &echo.term);
    uv_signal_start(&echo.term, on_signal, SIGTERM);
    uv_signal_init(loop, &echo.interrupt);
    uv_signal_start(&echo.interrupt, on_signal, SIGINT);

    std::fprintf(stderr, "echo ready\n");
    uv_run(loop, UV_RUN_DEFAULT);
    answered = echo.answered;
    uv_close(reinterpret_cast<uv_handle_t*>(&echo.udp), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&echo.term), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&echo.interrupt), nullptr);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
}

int usage() {
    std::fprintf(stderr, "usage: dnsd_bench_echo --listen ADDR:PORT [--batch B] [--libuv]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    sockaddr_storage address{};
    socklen_t length = 0;
    unsigned batch = 64;
    bool libuv = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--listen" && i + 1 < argc) {
            if (!parse_listen(argv[++i], address, length)) return usage();
        } else if (flag == "--batch" && i + 1 < argc) {
            const std::string_view text = argv[++i];
            if (auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), batch);
                error != std::errc() || end != text.data() + text.size() || batch < 1 || batch > 1024)
                return usage();
        } else if (flag == "--libuv") {
            libuv = true;
        } else {
            return usage();
        }
    }
    if (length == 0) return usage();

    uint64_t answered = 0;
    int status = 0;
    if (libuv) {
        status = run_libuv(address, batch, answered);
    } else {
        struct sigaction action {};
        action.sa_handler = on_stop_signal;  // no SA_RESTART: a blocked recvmmsg returns EINTR
        sigaction(SIGTERM, &action, nullptr);
        sigaction(SIGINT, &action, nullptr);
        status = run_mmsg(address, length, batch, answered);
    }
    std::fprintf(stderr, "echo answered %lu packets\n", answered);
    return status;
}
