#include "dnsd/wire/name.hpp"

#include <cstring>

namespace dnsd::wire {

namespace {

constexpr uint8_t pointer_bits = 0xc0;

// Eight octets at once: those from 'A' to 'Z' get bit 0x20, every other one
// stays as it is. Per octet, with its top bit cleared (so no sum carries into
// the next): adding 0x80 - 'A' sets the top bit from 'A' up, adding
// 0x80 - 'Z' - 1 sets it past 'Z'; an octet with its own top bit set is no
// letter. 0x80 >> 2 is 0x20.
uint64_t lower_word(uint64_t word) {
    constexpr uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
    const uint64_t low_bits = word & ~tops;
    const uint64_t from_a = low_bits + (0x80 - 'A') * ones;
    const uint64_t past_z = low_bits + (0x80 - 'Z' - 1) * ones;
    const uint64_t letters = from_a & ~past_z & ~word & tops;
    return word | letters >> 2;
}

// Label lengths (at most 63, below 'A') come through unchanged.
// A name of eight octets or more ends with a word that overlaps the one
// before, which lower-cases a few octets twice, to the same result.
void lower_case(const uint8_t* in, uint8_t* out, size_t size) {
    const auto lower_at = [&](size_t i) {
        uint64_t word;
        std::memcpy(&word, in + i, sizeof word);
        word = lower_word(word);
        std::memcpy(out + i, &word, sizeof word);
    };
    if (size < 8) {
        for (size_t i = 0; i < size; ++i) out[i] = to_lower(in[i]);
        return;
    }
    for (size_t i = 0; i + 8 < size; i += 8) lower_at(i);
    lower_at(size - 8);
}

}  // namespace

bool read_name(Reader& reader, ParsedName& name) {
    const uint8_t* message = reader.data();
    const size_t message_size = reader.limit();
    size_t position = reader.position();
    size_t run_start = position;  // where the current run of labels began
    size_t resume = 0;            // where the reader continues once the name is read
    size_t hops = 0;
    size_t size = 0;
    // A run of labels is copied whole once its end is known: a question's
    // name, seldom compressed, is one copy.
    size_t copied = 0;  // octets of name.as_is filled in
    const auto copy_run = [&] {
        std::memcpy(name.as_is.data() + copied, message + run_start, size - copied);
        copied = size;
    };

    // Each iteration consumes a label or a pointer: at most 128 labels fit in
    // max_name_size and at most max_pointer_hops pointers are followed (each
    // strictly before the run that led to it, so there are no loops either).
    for (;;) {
        if (position >= message_size) return false;
        const uint8_t length = message[position];
        if ((length & pointer_bits) == pointer_bits) {
            if (position + 1 >= message_size || hops == max_pointer_hops) return false;
            const size_t target = size_t{length & 0x3fu} << 8 | message[position + 1];
            if (target >= run_start) return false;  // forward, self or loop
            if (hops++ == 0) resume = position + 2;
            copy_run();
            run_start = target;
            position = target;
            continue;
        }
        if ((length & pointer_bits) != 0) return false;  // 01 and 10: reserved / obsolete
        if (size + 1 + length > max_name_size) return false;
        if (position + 1 + length > message_size) return false;
        size += 1 + length;
        position += 1 + length;
        if (length == 0) break;
    }
    copy_run();
    name.size = size;
    lower_case(name.as_is.data(), name.lower.data(), size);
    return reader.seek(hops > 0 ? resume : position);
}

bool skip_name(Reader& reader) {
    const uint8_t* message = reader.data();
    size_t position = reader.position();
    // Every label moves forward and the size bound ends the walk.
    for (size_t size = 0;;) {
        if (position >= reader.limit()) return false;
        const uint8_t length = message[position];
        if ((length & pointer_bits) == pointer_bits) return reader.seek(position + 2);
        if ((length & pointer_bits) != 0) return false;  // 01 and 10: reserved / obsolete
        size += 1 + length;
        if (size > max_name_size) return false;
        position += 1 + length;
        if (length == 0) return reader.seek(position);
    }
}

size_t name_size(std::span<const uint8_t> bytes) {
    size_t position = 0;
    while (position < bytes.size() && position < max_name_size) {
        const uint8_t length = bytes[position];
        if (length > max_label_size) return 0;
        position += 1 + length;
        if (length == 0) return position <= max_name_size ? position : 0;
    }
    return 0;
}

}  // namespace dnsd::wire
