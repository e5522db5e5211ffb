#pragma once
// One worker's answer path: the worker's cached view, its scratch, its output
// buffer and its counters around answer::respond. Used by the worker's UDP and
// TCP code on the worker's thread only.
#include <cstdint>
#include <memory>
#include <span>

#include "dnsd/answer/respond.hpp"
#include "dnsd/answer/view.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/net/counters.hpp"

namespace dnsd::net {

class Responder {
public:
    explicit Responder(const core::Published<answer::View>& published);

    // Answers one message. UDP: the response; TCP: the response behind its
    // 2-byte length. Empty: send nothing. The bytes stay valid until the next
    // call. Takes no lock (unless a new view was published), allocates nothing.
    std::span<const uint8_t> answer(std::span<const uint8_t> query, const core::Address& source,
                                    answer::Transport transport);

    Counters& counters() { return counters_; }
    const Counters& counters() const { return counters_; }

private:
    core::Published<answer::View>::Reader reader_;
    uint64_t prepared_generation_;
    answer::WorkerState state_;
    // The TCP length prefix, then room for the largest DNS message.
    std::unique_ptr<uint8_t[]> out_;
    Counters counters_;
};

}  // namespace dnsd::net
