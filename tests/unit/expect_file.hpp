#pragma once
// Diagnostics checked against a sidecar file: one expected diagnostic per line,
// "[FILE:]LINE:COL: text", where `text` must occur in the message and FILE,
// when given, must be the diagnostic's file name. The counts must agree too,
// so a case cannot pass by reporting extra problems.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::test {

inline void check_expectations(const core::Diagnostics& got, const std::string& expect_path) {
    std::ifstream in(expect_path);
    REQUIRE(in);
    std::string all;
    for (const auto& d : got) all += d.to_string() + "\n";
    INFO("expectations: " << expect_path << "\ndiagnostics:\n" << all);

    size_t expected = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        INFO("expected: " << line);
        // "[FILE:]LINE:COL: text": the first ": " ends the position.
        size_t text_at = line.find(": ");
        REQUIRE(text_at != std::string::npos);
        std::string position = line.substr(0, text_at);
        size_t column_at = position.rfind(':');
        REQUIRE(column_at != std::string::npos);
        size_t line_at = position.rfind(':', column_at - 1);
        line_at = line_at == std::string::npos ? 0 : line_at + 1;
        std::string file = line_at == 0 ? "" : position.substr(0, line_at - 1);
        uint32_t row = static_cast<uint32_t>(std::stoul(position.substr(line_at, column_at - line_at)));
        uint32_t column = static_cast<uint32_t>(std::stoul(position.substr(column_at + 1)));
        std::string text = line.substr(text_at + 2);
        ++expected;
        bool found = false;
        for (const auto& d : got) {
            bool same_file = file.empty() || std::filesystem::path(d.file).filename() == file;
            if (same_file && d.line == row && d.column == column && d.message.find(text) != std::string::npos)
                found = true;
        }
        CHECK(found);
    }
    CHECK(expected > 0);
    CHECK(got.size() == expected);
}

}  // namespace dnsd::test
