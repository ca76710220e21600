# src/cmd/stats.mk: `cairn stats` (listen, status). The listen logic (line grammar, criteria,
# summary) is a small library so its unit test links it without the CLI.
noinst_LTLIBRARIES += src/cmd/liblisten.la
src_cmd_liblisten_la_SOURCES = src/cmd/listen.hpp src/cmd/listen.cpp
src_cmd_liblisten_la_CPPFLAGS = $(AM_CPPFLAGS) $(JSON_CFLAGS) $(SPDLOG_CFLAGS)
src_cmd_liblisten_la_LIBADD = $(SPDLOG_LIBS)
src_cmd_cairn_LDADD += src/cmd/liblisten.la

check_PROGRAMS += src/cmd/test/listen_test
TESTS += src/cmd/test/listen_test
src_cmd_test_listen_test_SOURCES = src/cmd/test/listen_test.cpp
src_cmd_test_listen_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS) $(JSON_CFLAGS) $(SPDLOG_CFLAGS)
src_cmd_test_listen_test_LDADD = src/cmd/liblisten.la $(GTEST_LDADD) $(SPDLOG_LIBS)

man1_MANS += doc/man1/cairn-stats.1
EXTRA_DIST += doc/man1/cairn-stats.1
