# Helpers shared by every CMakeLists in the tree.

# tn_add_unit_test(name [LIBS lib...]): name.c beside the caller becomes one test executable
# (nng's model: one binary per test file) registered with CTest under the label "unit".
function(tn_add_unit_test name)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  add_executable(${name} ${name}.c)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
  target_link_libraries(${name} PRIVATE tern_codec ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
