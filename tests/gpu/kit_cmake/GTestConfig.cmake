# GoogleTest from the device kit (see tests/gpu/deps_kit.cmake): the static archives that
# Debian's libgtest-dev ships, found through GTest_DIR so the system's copy is not used.
if(NOT TARGET GTest::gtest)
  add_library(GTest::gtest STATIC IMPORTED GLOBAL)
  set_target_properties(GTest::gtest PROPERTIES
    IMPORTED_LOCATION "${KVS_DEPS_KIT}/lib/libgtest.a"
    INTERFACE_INCLUDE_DIRECTORIES "${KVS_DEPS_KIT}/include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(GTest::gtest_main STATIC IMPORTED GLOBAL)
  set_target_properties(GTest::gtest_main PROPERTIES
    IMPORTED_LOCATION "${KVS_DEPS_KIT}/lib/libgtest_main.a"
    INTERFACE_LINK_LIBRARIES GTest::gtest)
endif()
set(GTest_FOUND TRUE)
