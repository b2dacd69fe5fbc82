#include "response_reader.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void reader_reset(response_reader_t *r) {
  r->bytes = 0;
  r->head_done = 0;
  r->body_expected = -1;
  r->body_seen = 0;
  r->chunked = 0;
  r->head_len = 0;
  r->tail_len = 0;
  r->status_class = 0;
  r->status_read = 0;
  r->line_seen = 0;
  r->line_cr = 0;
  r->server_closes = 0;
}

/* /^HTTP\/\d(?:\.\d)? ([1-5])\d\d(?: |\r)/ on the first n bytes of s: the class digit, or 0. */
static int match_status_line(const char *s, size_t n) {
  size_t i = 5;
  if (n < i || memcmp(s, "HTTP/", 5) != 0) return 0;
  if (i >= n || !isdigit((unsigned char)s[i])) return 0;
  i++;
  if (i + 1 < n && s[i] == '.' && isdigit((unsigned char)s[i + 1])) i += 2;
  if (i + 5 > n || s[i] != ' ' || s[i + 1] < '1' || s[i + 1] > '5') return 0;
  if (!isdigit((unsigned char)s[i + 2]) || !isdigit((unsigned char)s[i + 3])) return 0;
  if (s[i + 4] != ' ' && s[i + 4] != '\r') return 0;
  return s[i + 1] - '0';
}

/*
 * Reads the status line across chunks: it ends at the first "\r\n" (the pattern sees it up to
 * and with its '\r'), or after STATUS_LINE_MAX bytes without one. The pattern never looks past
 * STATUS_PREFIX bytes, so those are all that is kept.
 */
static void read_status_line(response_reader_t *r, const unsigned char *chunk, size_t len) {
  for (size_t k = 0; k < len; k++) {
    unsigned char c = chunk[k];
    if (r->line_cr && c == '\n') {
      /* The line is the bytes before this '\n'. */
      size_t n = r->line_seen < STATUS_PREFIX ? r->line_seen : STATUS_PREFIX;
      r->status_class = match_status_line(r->line, n);
      r->status_read = 1;
      return;
    }
    if (r->line_seen < STATUS_PREFIX) r->line[r->line_seen] = (char)c;
    r->line_seen++;
    r->line_cr = c == '\r';
    if (r->line_seen >= STATUS_LINE_MAX) {
      r->status_class = match_status_line(r->line, STATUS_PREFIX);
      r->status_read = 1;
      return;
    }
  }
}

/* `name` (lower case, with its leading "\r\n" and trailing ':') in the head, case-insensitively: the value after it. */
static const char *header_value(const char *head, size_t len, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i + n <= len; i++) {
    size_t j = 0;
    while (j < n && tolower((unsigned char)head[i + j]) == name[j]) j++;
    if (j == n) return head + i + n;
  }
  return NULL;
}

static int is_word(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

/* /\r\nconnection:[^\r]*\bclose\b/ on the head, case-insensitively (every Connection line). */
static int says_close(const char *head, size_t len) {
  const char *stop = head + len;
  const char *v = head;
  while ((v = header_value(v, (size_t)(stop - v), "\r\nconnection:")) != NULL) {
    const char *line_end = v;
    while (line_end < stop && *line_end != '\r') line_end++;
    for (const char *p = v; p + 5 <= line_end; p++) {
      if (strncasecmp(p, "close", 5) == 0 && !is_word(p[-1]) && (p + 5 == stop || !is_word(p[5]))) return 1;
    }
  }
  return 0;
}

/* Reads the head's framing: /\r\ncontent-length:\s*(\d+)/ and /\r\ntransfer-encoding:[^\r]*chunked/. */
static void read_head(response_reader_t *r, size_t end) {
  const char *stop = r->head + end;
  const char *v = header_value(r->head, end, "\r\ncontent-length:");
  if (v) {
    while (v < stop && isspace((unsigned char)*v)) v++;
    if (v < stop && isdigit((unsigned char)*v)) {
      double length = 0;
      while (v < stop && isdigit((unsigned char)*v)) length = length * 10 + (*v++ - '0');
      r->body_expected = length;
    }
  }
  v = header_value(r->head, end, "\r\ntransfer-encoding:");
  if (v) {
    const char *line_end = v;
    while (line_end < stop && *line_end != '\r') line_end++;
    for (const char *p = v; p + 7 <= line_end; p++) {
      if (strncasecmp(p, "chunked", 7) == 0) {
        r->chunked = 1;
        break;
      }
    }
  }
  r->server_closes = says_close(r->head, end);
}

/* Chunked: the terminating zero-size chunk closes the body (enough for load-testing, as response-reader.ts). */
static int consume_chunked(response_reader_t *r, const unsigned char *chunk, size_t len) {
  static const char end[] = "0\r\n\r\n";
  char window[CHUNKED_TAIL + 64];
  /* Look at the kept tail and the chunk, in pieces small enough for the window. */
  while (len > 0) {
    size_t take = len < 64 ? len : 64;
    memcpy(window, r->tail, r->tail_len);
    memcpy(window + r->tail_len, chunk, take);
    size_t n = r->tail_len + take;
    for (size_t i = 0; i + 5 <= n; i++) {
      if (memcmp(window + i, end, 5) == 0) return 1;
    }
    r->tail_len = n < CHUNKED_TAIL ? n : CHUNKED_TAIL;
    memmove(r->tail, window + n - r->tail_len, r->tail_len);
    chunk += take;
    len -= take;
  }
  return 0;
}

static int consume_http(response_reader_t *r, const unsigned char *chunk, size_t len) {
  if (!r->head_done) {
    size_t before = r->head_len;
    size_t take = len < RESPONSE_HEAD_MAX - before ? len : RESPONSE_HEAD_MAX - before;
    memcpy(r->head + before, chunk, take);
    r->head_len += take;
    /* The head's end may straddle the chunks: look from 3 bytes before the new ones. */
    size_t from = before > 3 ? before - 3 : 0;
    size_t end = 0;
    int found = 0;
    for (size_t i = from; i + 4 <= r->head_len; i++) {
      if (memcmp(r->head + i, "\r\n\r\n", 4) == 0) {
        end = i;
        found = 1;
        break;
      }
    }
    if (!found) return r->head_len >= RESPONSE_HEAD_MAX ? -1 : 0;
    r->head_done = 1;
    read_head(r, end);
    /* What followed the head in this chunk is the body's start. */
    size_t body_from = end + 4 - before;
    chunk += body_from;
    len -= body_from;
  }
  if (r->chunked) return consume_chunked(r, chunk, len);
  r->body_seen += (double)len;
  return r->body_expected >= 0 && r->body_seen >= r->body_expected;
}

int reader_consume(response_reader_t *r, const unsigned char *chunk, size_t len) {
  r->bytes += (double)len;
  if (!r->status_read) read_status_line(r, chunk, len);
  switch (r->framing) {
    case FRAMING_FIRST_BYTE: return 1;
    case FRAMING_BYTES: return r->bytes >= r->count;
    case FRAMING_UNTIL_CLOSE: return 0;
    default: return consume_http(r, chunk, len);
  }
}

int reader_complete_at_end(const response_reader_t *r) {
  if (r->framing == FRAMING_UNTIL_CLOSE) return 1;
  return r->framing == FRAMING_HTTP && r->head_done && r->body_expected < 0 && !r->chunked;
}
