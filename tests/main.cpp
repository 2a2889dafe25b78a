// The doctest runner for the whole suite (tests/ mirrors the source tree).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
