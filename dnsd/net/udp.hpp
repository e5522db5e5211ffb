#pragma once
// A worker's UDP sockets. libuv only says when a socket is readable; the
// worker then takes up to a batch of datagrams with one recvmmsg, answers each
// into its own stretch of one output buffer and hands every answer back to the
// kernel with one sendmmsg: two system calls per batch, no copy, no queue.
// An answer the socket cannot take at once (its send buffer is full) is
// dropped and counted: the client retries, as with any lost datagram.
//
// A socket bound to a wildcard address (0.0.0.0, ::) answers from the address
// each query was sent to (IP_PKTINFO / IPV6_RECVPKTINFO), so that clients of
// a multi-homed host accept the answer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <memory>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/net/sockets.hpp"

namespace dnsd::net {

class Udp {
public:
    // Datagrams taken per recvmmsg and answers given per sendmmsg.
    static constexpr size_t batch_size = 64;

    Udp(uv_loop_t* loop, Responder& responder);
    Udp(const Udp&) = delete;
    Udp& operator=(const Udp&) = delete;

    // Adopts a bound socket and starts receiving. Throws std::runtime_error.
    void open(Fd fd, const core::Endpoint& endpoint);
    // Stops receiving and closes every socket.
    void close();

private:
    struct Socket {
        uv_poll_t poll;
        Udp* udp;
        Fd fd;
        bool packet_info;  // wildcard-bound: answer from each query's destination
    };
    // The ancillary data of one datagram: its destination address (received)
    // or the source address of its answer (sent).
    union Control {
        cmsghdr header;
        std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> v4;
        std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))> v6;
    };

    static void on_readable(uv_poll_t* poll, int status, int events);
    // One recvmmsg and one sendmmsg; false when the socket had no more datagrams.
    bool serve_batch(Socket& socket);
    // Sends answers_[0, count); returns how many the kernel refused.
    size_t send_answers(int fd, size_t count);

    uv_loop_t* loop_;
    Responder& responder_;
    // Received datagrams, one slot of receive_stride bytes each.
    std::unique_ptr<char[]> queries_;
    // Answers, one after another: whatever is left after an answer still
    // holds the largest one (65535 octets), so a batch never runs out.
    std::unique_ptr<uint8_t[]> answers_buffer_;
    std::array<sockaddr_storage, batch_size> sources_{};
    std::array<Control, batch_size> received_control_{};
    std::array<Control, batch_size> sent_control_{};
    std::array<iovec, batch_size> query_iovecs_{};
    std::array<iovec, batch_size> answer_iovecs_{};
    std::array<mmsghdr, batch_size> received_{};
    // received_[0, filled_) are those the last recvmmsg filled in: only
    // their in-out lengths need setting back before the next.
    size_t filled_ = 0;
    std::array<mmsghdr, batch_size> answers_{};
    // Handles live as long as the worker, beyond their close callbacks.
    std::vector<std::unique_ptr<Socket>> sockets_;
};

}  // namespace dnsd::net
