#pragma once
// Domain names on the wire (RFC 1035 §3.1, §4.1.4): parsing with compression
// pointers, and the small helpers the answer path needs on uncompressed names.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnsd/wire/buffer.hpp"

namespace dnsd::wire {

inline constexpr size_t max_name_size = 255;  // octets, root label included
inline constexpr size_t max_label_size = 63;
// The most compression pointers read_name follows in one name: one before
// each of the 128 labels (the root's included) a 255-octet name can hold.
// Without a cap a chain of backward pointers costs a hop per two octets of
// the packet, for every name that points into it.
inline constexpr size_t max_pointer_hops = 128;

// A name read from a message, uncompressed, kept twice: as sent (to echo the
// client's case) and lower-cased (to look it up). Only the first `size`
// octets are ever written or read, so the arrays are left uninitialised: a
// Query is built per packet and zeroing 510 octets each time is waste.
struct ParsedName {
    std::array<uint8_t, max_name_size> as_is;
    std::array<uint8_t, max_name_size> lower;
    size_t size = 0;

    std::span<const uint8_t> as_is_bytes() const { return {as_is.data(), size}; }
    std::string_view lower_view() const {
        return {reinterpret_cast<const char*>(lower.data()), size};
    }
};

// Reads the name at the reader's position; the reader must span the whole
// message, since pointers are offsets from its start. Every pointer must point
// before the run of labels that led to it, which rules out loops and forward
// pointers. Fails on a truncated name, a label type other than 00 or 11, a
// label over 63 octets, a name over 255 octets, or more than
// max_pointer_hops pointers. On success the reader sits just past the name's
// own bytes (after its first pointer, if any); on failure it has not moved.
bool read_name(Reader& reader, ParsedName& name);

// Moves the reader past the name at its position without following a
// pointer: for the names the server does not use. Fails, without moving, on
// a truncated name, a label type other than 00 or 11, or more than 255
// octets before the root or the pointer.
bool skip_name(Reader& reader);

inline uint8_t to_lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c; }

// The size of the well-formed uncompressed name at the start of `bytes`
// (root label included), or 0 if there is none.
size_t name_size(std::span<const uint8_t> bytes);

// `name` (well-formed, uncompressed) with its first label removed; the root
// stays the root.
inline std::string_view parent(std::string_view name) {
    if (name.size() <= 1) return name;
    return name.substr(1 + static_cast<uint8_t>(name[0]));
}

inline std::string_view as_view(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace dnsd::wire
