/* test_csv.c: CSV as spreadsheets write it (csv.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "arena.h"
#include "csv.h"

static arena *a;
static void setup(void) { a = arena_new(); }
static void teardown(void) { arena_free(a); }
TestSuite(csv, .init = setup, .fini = teardown, .timeout = 30);

/* Reads every record into "f1|f2;f1|f2" (bad records as "!<line>"). */
static const char *all(const char *text, size_t len)
{
    csv_reader r;
    csv_init(&r, text, len);
    char *out = arena_strdup(a, "");
    char **f;
    size_t n, line;
    const char *why;
    int rc;
    while ((rc = csv_next(&r, a, &f, &n, &line, &why)) != CSV_EOF) {
        if (*out)
            out = arena_printf(a, "%s;", out);
        if (rc == CSV_BAD) {
            out = arena_printf(a, "%s!%zu", out, line);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            out = arena_printf(a, "%s%s%s", out, i ? "|" : "", f[i]);
    }
    return out;
}
#define ALL(s) all(s, sizeof(s) - 1)

Test(csv, plain_rows_crlf_lf_and_cr) { cr_assert_str_eq(ALL("a,b\r\nc,d\ne,f\rg,h"), "a|b;c|d;e|f;g|h"); }

Test(csv, quoted_fields_hold_commas_quotes_and_line_breaks)
{
    cr_assert_str_eq(ALL("a,\"b,c\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\n"), "a|b,c|say \"hi\";two\nlines|x");
}

Test(csv, a_byte_order_mark_and_blank_rows_are_skipped_and_fields_trimmed)
{
    cr_assert_str_eq(ALL("\xEF\xBB\xBF code , name \n,,,\n\n 1 ,甲\n"), "code|name;1|甲");
}

Test(csv, the_header_decides_the_delimiter)
{
    cr_assert_str_eq(ALL("a;b;c\n1;2,5;3\n"), "a|b|c;1|2,5|3");
    cr_assert_str_eq(ALL("a\tb\n1\t2\n"), "a|b;1|2");
}

Test(csv, bad_records_are_reported_by_line_and_reading_goes_on)
{
    /* line 2: GBK bytes; line 3: a NUL; line 4 starts a quote never closed */
    const char text[] = "a,b\n\xb5\xda,x\nq\0q,y\nok,1\n\"open,2\n";
    cr_assert_str_eq(all(text, sizeof text - 1), "a|b;!2;!3;ok|1;!5");
}

Test(csv, line_numbers_count_breaks_inside_quotes)
{
    csv_reader r;
    const char text[] = "h1,h2\n\"x\ny\",1\nz,2\n";
    csv_init(&r, text, sizeof text - 1);
    char **f;
    size_t n, line;
    const char *why;
    cr_assert_eq(csv_next(&r, a, &f, &n, &line, &why), CSV_RECORD);
    cr_assert_eq(line, 1);
    cr_assert_eq(csv_next(&r, a, &f, &n, &line, &why), CSV_RECORD);
    cr_assert_eq(line, 2);
    cr_assert_eq(csv_next(&r, a, &f, &n, &line, &why), CSV_RECORD);
    cr_assert_eq(line, 4, "the record after a two-line field starts on line 4");
}

Test(csv, written_fields_read_back)
{
    csv_buf b = { 0 };
    const char *fields[] = { "plain", "with,comma", "with \"quote\"", " padded ", "two\nlines", "分号;", "" };
    for (size_t i = 0; i < 7; i++)
        csv_put(&b, fields[i], i == 0);
    csv_end_record(&b);
    csv_reader r;
    csv_init(&r, b.data, b.len);
    char **f;
    size_t n, line;
    const char *why;
    cr_assert_eq(csv_next(&r, a, &f, &n, &line, &why), CSV_RECORD);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(f[1], "with,comma");
    cr_assert_str_eq(f[2], "with \"quote\"");
    cr_assert_str_eq(f[3], "padded", "fields are trimmed on reading");
    cr_assert_str_eq(f[4], "two\nlines");
    cr_assert_str_eq(f[5], "分号;");
    csv_buf_free(&b);
}
