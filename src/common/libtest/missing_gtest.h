/* Force-included into every unit test's compile when configure found no GoogleTest: the build
 * of `make check` stops here with the package to install instead of a missing-header error. */
#error "GoogleTest is not installed: apt-get install libgtest-dev libgmock-dev; rerun configure"
