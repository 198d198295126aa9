# Dependencies from an unpacked device kit (tests/gpu/make_device_kit.sh, unpacked by
# tests/gpu/device_check.sh) instead of the system's: the lent GPU machine has LibTorch and CUDA
# but none of these libraries, so the kit brings static archives made on Debian 12.
# Included by the top-level CMakeLists.txt when KVS_DEPS_KIT is set; every target it defines has
# the name the system's find modules would give, so core/, app/ and tests/ need no change.
set(_kit "${KVS_DEPS_KIT}")
foreach(_f include/H5Cpp.h include/sentencepiece_processor.h lib/libhdf5.a lib/libicudata.a
           bin/pkg-config models/stories260K.bin)
  if(NOT EXISTS "${_kit}/${_f}")
    message(FATAL_ERROR "KVS_DEPS_KIT=${_kit} has no ${_f}: unpack build-devkit/kit.tar.xz there "
                        "(tests/gpu/device_check.sh does), or make the kit again.")
  endif()
endforeach()
message(STATUS "Dependencies: the device kit in ${_kit} (static archives)")

# kvs_kit_archive(target archive [link-interface...]): a static archive of the kit as the
# imported target a find module would have made.
function(kvs_kit_archive target archive)
  add_library(${target} STATIC IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${_kit}/lib/${archive}"
    INTERFACE_INCLUDE_DIRECTORIES "${_kit}/include"
    INTERFACE_LINK_LIBRARIES "${ARGN}")
endfunction()

foreach(_header_only nlohmann_json::nlohmann_json CLI11::CLI11)
  add_library(${_header_only} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${_header_only} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kit}/include")
endforeach()

# Its own name: a LibTorch config (Debian's) may already have defined protobuf::libprotobuf-lite.
kvs_kit_archive(kvs_kit::protobuf-lite libprotobuf-lite.a Threads::Threads)
set(KVS_PROTOBUF_LITE kvs_kit::protobuf-lite)
kvs_kit_archive(OpenSSL::Crypto libcrypto.a ${CMAKE_DL_LIBS} Threads::Threads)
# ICU's uc archive refers to the data archive's entry point; the system's ICU::uc is a shared
# library that loads its data itself, so core/CMakeLists.txt names uc only.
kvs_kit_archive(ICU::uc libicuuc.a "${_kit}/lib/libicudata.a;${CMAKE_DL_LIBS};Threads::Threads")
set(ICU_ROOT "${_kit}")

# HDF5's settings also list curl and crypto (its read-only S3 driver), which nothing the project
# calls pulls in; szip (sz + aec) and zlib are the filters the library does reference.
set(HDF5_INCLUDE_DIRS "${_kit}/include")
set(HDF5_DEFINITIONS "")
set(HDF5_CXX_LIBRARIES "${_kit}/lib/libhdf5_cpp.a")
set(HDF5_LIBRARIES "${_kit}/lib/libhdf5.a" "${_kit}/lib/libsz.a" "${_kit}/lib/libaec.a"
                   "${_kit}/lib/libz.a" ${CMAKE_DL_LIBS} m Threads::Threads)

# core/CMakeLists.txt finds PCRE2 with pkg-config; the kit's own answers from its .pc file
# whether or not the machine has a pkg-config.
set(PKG_CONFIG_EXECUTABLE "${_kit}/bin/pkg-config" CACHE FILEPATH "pkg-config of the device kit"
    FORCE)
# tests/CMakeLists.txt calls find_package(GTest): a config in the kit's place wins over the
# system's (FindGTest tries config mode first).
set(GTest_DIR "${CMAKE_CURRENT_LIST_DIR}/kit_cmake" CACHE PATH "GTest of the device kit" FORCE)

set(KVS_SENTENCEPIECE_ROOT "${_kit}")
set(KVS_MODELS_DIR "${_kit}/models" CACHE PATH "Where setup placed the model files" FORCE)
