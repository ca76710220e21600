# src/cmd/content.mk: `cairn content`'s bulk helpers (the netstring reader, the progress line),
# a small library so their unit test links them without the CLI or a broker.
noinst_LTLIBRARIES += src/cmd/libbulk.la
src_cmd_libbulk_la_SOURCES = src/cmd/netstring.hpp src/cmd/netstring.cpp \
	src/cmd/progress.hpp src/cmd/progress.cpp
src_cmd_cairn_SOURCES += src/cmd/pipeline.hpp src/cmd/pipeline.cpp
src_cmd_cairn_LDADD += src/cmd/libbulk.la

check_PROGRAMS += src/cmd/test/bulk_test
TESTS += src/cmd/test/bulk_test
src_cmd_test_bulk_test_SOURCES = src/cmd/test/bulk_test.cpp
src_cmd_test_bulk_test_CPPFLAGS = $(AM_CPPFLAGS) $(GTEST_CFLAGS)
src_cmd_test_bulk_test_LDADD = src/cmd/libbulk.la src/common/libutil/libutil.la $(CRYPTO_LIBS) \
	$(GTEST_LDADD)
