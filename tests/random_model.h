// Tiny random models (tests/support/synthetic_model.h), for tests that check identities (incremental
// decode == prefill, cache layout, state) on every build, including the sanitizer and AArch64 ones.
// Their numbers are checked against the independent numpy reference in tests/python.
#pragma once

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "support/synthetic_model.h"

namespace ember::test {

// The identity tests' models: SyntheticModel written to a per-process temporary file.
struct RandomModel : SyntheticModel {
  std::string write(const std::string& name) const {
    const std::string path = ::testing::TempDir() + "/ember-" + name + "-" + std::to_string(::getpid()) + ".gguf";
    const Status s = SyntheticModel::write(path);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return path;
  }
};

}  // namespace ember::test
