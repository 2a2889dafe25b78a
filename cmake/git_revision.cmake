# Run at every build (cmake -P): writes OUTPUT, a header defining GFN_GIT_REVISION as the checkout's
# current commit (empty outside a git checkout), and rewrites it only when the commit changed, so only
# the file that reads it recompiles. Runs' config.json records it (core/run/session.cpp).
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(content "#define GFN_GIT_REVISION \"${revision}\"\n")
set(previous "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
