#pragma once
// What must survive a restart (SPEC §2 `state_dir`), kept as one JSON file
// per kind in the state directory, each `{"version": 1, "<kind>": [...]}`:
// `overrides.json`, the runtime overrides of SPEC §8, and
// `registrations.json`, the registrations of SPEC §11 with the absolute end
// of their leases. Latency measurements get a file of their own beside them, so that one
// unreadable file never costs the others. A file is written whole and
// atomically (core::write_file_atomically) on every change, and read once, at
// start-up, before the first query is answered.
//
// Nothing here stops the server: a missing file is empty state; a file that
// cannot be read or is not valid is one warning (FILE:LINE:COL: message for
// what the JSON reader finds) and empty state; a directory that cannot be
// created or written is a warning, and changes then hold until the process
// ends. Used on the control loop only.
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "dnsd/control/registrations.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/health/monitor.hpp"

namespace dnsd::control {

// The overrides in the text of an overrides file read from `file`; every
// problem in `diagnostics`, and what they leave out is not in the result.
// Any bytes at all may be given.
std::vector<health::Override> parse_overrides(std::string text, const std::string& file,
                                             core::Diagnostics& diagnostics);

// The registrations in the text of a registrations file, as above.
std::vector<Registration> parse_registrations(std::string text, const std::string& file,
                                              core::Diagnostics& diagnostics);

class StateStore {
public:
    explicit StateStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path overrides_path() const { return dir_ / "overrides.json"; }
    std::filesystem::path registrations_path() const { return dir_ / "registrations.json"; }

    // Creates the directory if it is missing. False when it cannot be created
    // or written, and `warning` says why and what follows.
    bool prepare(std::string& warning) const;

    // The overrides in overrides.json: none when there is no such file. When
    // it cannot be read or is not valid: none, and `warning` is one line
    // naming the file and the problem.
    std::vector<health::Override> load_overrides(std::string& warning) const;

    // Replaces overrides.json with `overrides`. False, and why in `error`,
    // when it cannot be written (the previous file stays as it was).
    bool save_overrides(std::span<const health::Override> overrides, std::string& error) const;

    // The same for registrations.json.
    std::vector<Registration> load_registrations(std::string& warning) const;
    bool save_registrations(std::span<const Registration> registrations, std::string& error) const;

private:
    std::filesystem::path dir_;
};

}  // namespace dnsd::control
