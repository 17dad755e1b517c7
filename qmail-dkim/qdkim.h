/*
 * qdkim.h -- the interfaces of qmail-dkim's modules, one section per file.
 *
 * Every module returns; only main() in qmail-dkim.c decides whether the
 * message is deferred or handed on.  A module that fails returns -1 and
 * leaves a sentence for the qmail-send log in why (why.c).
 */
#ifndef QDKIM_H
#define QDKIM_H

#include <stddef.h>
#include <sys/types.h>

/* Compile-time defaults; QMAILHOME comes from the Makefile. */
#ifndef QMAILHOME
#define QMAILHOME "/var/qmail"
#endif
#define HDR_MAX (1024 * 1024)	/* larger header blocks go out unsigned */
#define KEY_MAX (64 * 1024)	/* no PEM private key is this big */
#define RSA_MIN_BITS 1024	/* RFC 8301 3.2: signers MUST use >= 1024 */
#define CHUNK (64 * 1024)

/* why.c: the reason behind the last failure, for the Z record and syslog */
extern char why[512];
void why_set(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void why_sys(const char *fmt, ...)	/* appends ": strerror(errno)" */
    __attribute__((format(printf, 1, 2)));

/* io.c: read and write through EINTR and short counts */
int io_write(int fd, const char *buf, size_t len);
ssize_t io_pread(int fd, char *buf, size_t len, off_t off);

/* report.c: qmail-remote's report records on fd 1 */
int report_temp(const char *text);	/* one "Z<text>\n\0" record */

/* control.c: the qmail home and its one-value-per-file control files */
const char *control_home(void);
int control_readline(const char *path, char *buf, size_t size);
int control_readfile(const char *path, char *buf, size_t size);
				/* both: -1 error, 0 absent, 1 found */
int control_choice(const char *name, const char *const *words, int def);
				/* the index of the word, def absent, -1 */

/* domain.c: domain names taken from untrusted message text */
int domain_normalize(char *d);	/* lower-cases; 1 if a usable domain */
const char *domain_parent(const char *d);	/* NULL at two labels */
int selector_valid(const char *s);

/* address.c: the domain of the first mailbox in an address header */
int address_domain(const char *value, size_t len, char *out, size_t size);
				/* 1 found and valid, 0 not */

/* normalize.c: the one line-ending form every qmail version sends alike */
struct norm {
	int cr;			/* the last byte seen was a CR */
	int any_cr;		/* a CR was seen at all */
};
size_t norm_lf(struct norm *n, char *buf, size_t len);
size_t norm_crlf(const char *in, size_t len, char *out);

/* message.c: reading the message once, as a stream */
struct msg {
	int fd;			/* a regular file, read with pread */
	off_t start;		/* where the message begins in fd */
	off_t size;		/* its length from start */
	off_t pos;		/* next raw byte to read */
	struct norm norm;
	char last;		/* the last raw byte read */
	int nul_in_header;
	int no_body;		/* no empty line: the message is all header */
	char *hdr;		/* the header block, normalized to LF */
	size_t hdrlen;		/* up to and with the last header's LF */
	char *rest;		/* body bytes read along with the header */
	size_t restlen;
};
int msg_open(struct msg *m, int fd);	/* -1 error, 0 empty, 1 ready */
int msg_header(struct msg *m);	/* -1 error, 0 too big, 1 read */
ssize_t msg_read(struct msg *m, char *buf, size_t size);
int msg_rewind(struct msg *m);	/* the message, from its start, on fd 0 */
void msg_close(struct msg *m);	/* frees the header block */

/* spool.c: a pipe on fd 0 becomes an unlinked temporary file */
int spool_pipe(int fd);		/* returns the new fd, or -1 */
int spool_file(void);		/* an empty one, or -1 (errno) */
int spool_copy(int in, int fd);	/* -1 cannot read, -2 cannot write */

/* header.c: splitting the header block into fields */
struct field {
	size_t off;		/* into the header block */
	size_t len;		/* without the final LF */
	size_t namelen;
};
struct header {
	struct field *f;
	size_t n;
	size_t from;		/* index of the one From field */
	int blank_line;		/* a continuation line of white space only */
};
int header_parse(const char *hdr, size_t len, struct header *h,
    const char **reason);	/* -1 error, 0 unsignable, 1 ok */
int header_relaxed_ok(const char *hdr, const struct field *f);
				/* 1: relaxed canonicalization signs it */

/* chain.c: the queue lines on top of a queue file, and a forward's chain */
#define INJ_UNKNOWN 0		/* no qmail-queue line on top */
#define INJ_UID 1		/* "invoked by uid N" */
#define INJ_ALIAS 2		/* "invoked by alias" */
#define INJ_NETWORK 3		/* "invoked from network": qmail-smtpd */
#define INJ_BOUNCE 4		/* "invoked for bounce": qmail-send */
#define CHAIN_MAX 16		/* links read; a longer chain signs nothing */
#define SMTP_NONE 0		/* the first link is not the network's */
#define SMTP_LOOPBACK 1		/* qmail-smtpd's client was this host */
#define SMTP_REMOTE 2		/* another address */
#define SMTP_UNREAD 3		/* no qmail-smtpd line to be read */
struct link {
	int injector;
	uid_t uid;		/* INJ_UID */
};
struct chain {
	size_t n;		/* links, the first on top; 1 at least */
	struct link l[CHAIN_MAX];
	int overflow;		/* more links than CHAIN_MAX */
	int list;		/* ezmlm-send's Delivered-To: mailing list */
	int smtp;		/* the first link from network: SMTP_* */
	char info[128];		/* its INFO@ (ident, or SMTP AUTH login) */
};
int chain_queue_line(const char *p, const char *end, struct link *l);
				/* 1: [p, end) is qmail-queue's line */
void chain_read(const char *hdr, size_t len, const struct link *given,
    struct chain *c);		/* given: a first link not in hdr */

/* rights.c: control/dkimrights, which injector may sign as which domain */
struct who {
	struct chain c;		/* who queued it: rights_who */
	const char *envdom;	/* the envelope domain (for bounces: ours) */
	int env_bounce;		/* the envelope sender is a bounce's */
	char refused[256];	/* the first domain refused, for the log */
};
void rights_who(const char *hdr, size_t len, struct who *w);
				/* hdr NULL: INJ_UNKNOWN */
void rights_given(const struct link *l);	/* qmail-dkim-queue: the first
				 * link, not in the header; NULL none */
int rights_load(void);		/* -1 error, 0 no file, 1 loaded */
int rights_present(void);	/* control/dkimrights is in force */
int rights_check(struct who *w, const char *domain);	/* 1 may sign */
void rights_name(const struct who *w, char *buf, size_t size);

/* keys.c: control/domainkeys/DOMAIN/{selector,SELECTOR,identity} */
#define KEY_RSA 1
#define KEY_ED25519 2
#define SEL_MAX 8		/* signatures per message, at most */
struct key {
	char selector[64];
	char path[384];
	char *pem;		/* starts at -----BEGIN */
	int type;
	int bits;
};
struct keyset {
	char domain[256];	/* d= */
	char identity[320];	/* i=, or empty */
	size_t n;
	struct key k[SEL_MAX];	/* one signature each */
};
int keys_pick(const char *const *domains, size_t n, const char *sender,
    struct who *w, struct keyset *ks);
				/* -1 error, 0 no key, 1 found; w NULL:
				 * the host signs for itself */
void keys_free(struct keyset *ks);	/* wipes and frees the keys' text */
void keys_root(const char *dir);	/* DIR/DOMAIN/... instead */

/* keycache.c: each key decoded once a process (libopendkim's call) */
int keycache_type(const char *text, size_t len, int *bits);
				/* KEY_RSA, KEY_ED25519, 0 not cached */

/* allow.c: control/dkimsenders, which senders may use which key */
int allow_load(void);		/* -1 error, 0 loaded (or absent) */
int allow_check(const char *domain, const char *sender);
				/* sender: a domain, "" for a bounce */

/* policy.c: how to sign, from control files */
struct policy {
	int hcanon, bcanon;	/* DKIM_CANON_SIMPLE or _RELAXED */
	const char **sign;	/* field names, NULL-terminated */
	const char **oversign;
	unsigned long long expire;	/* seconds until x=, 0 for none */
	char note[256];		/* what policy_narrow left out, and why */
};
int policy_load(struct policy *p);	/* -1 error, 0 loaded */
int policy_narrow(struct policy *p, const char *hdr, const struct header *h);
				/* -1 error, 0 unsignable, 1 narrowed */

/* sign.c: libopendkim, one handle per signature, all fed alike */
int sign_start(const struct keyset *ks, const struct policy *p);
				/* -1 error, 0 ready */
/* the rest: -1 error, 0 the library finds it unsignable, 1 done */
int sign_header(const char *field, size_t len);
int sign_eoh(void);
int sign_body(const char *buf, size_t len);
int sign_finish(char **sighdr, size_t *len);	/* the fields, LF ends */
void sign_end(void);		/* frees the handles, for the next message */

/* engine.c: one message, from its header to a verdict */
#define VERDICT_SIGNED 'S'
#define VERDICT_UNSIGNED 'U'	/* hand it on unchanged; text says why */
#define VERDICT_DEFER 'Z'	/* a Z record; text says why */
#define VERDICT_LOCAL 'L'	/* qmail-dkimd: sign it yourself */
struct verdict {
	int kind;
	char text[512];		/* the reason, or "d=... s=... a=..." */
	char *sighdr;		/* signed: the fields, LF line ends */
	size_t siglen;
	int any_cr;		/* signed: hand the message on CR-free */
};
int engine_sign(struct msg *m, const char *sender, struct verdict *v);
				/* returns v->kind */
void engine_done(struct msg *m, struct verdict *v);

/* handoff.c: becoming the real qmail-remote */
void handoff_guard(void);	/* first thing: SIGXFSZ ignored till exec */
const char *handoff_real(void);
int handoff_looped(void);	/* we were exec'd as the real one */
/* note: NULL to become it, else to run it and relay its report (relay.c) */
void handoff_plain(const char *real, char **argv, const char *note);
void handoff_signed(const char *real, char **argv, struct msg *m,
    const char *sighdr, size_t siglen, const char *note);

/* relay.c: the real qmail-remote's report, with the DKIM outcome in it */
#define RELAY_NOTE_MAX 200
struct relay {
	const char *note;	/* put into the message record's text */
	int start;		/* the next byte starts a record */
	int final;		/* in the first K, Z or D record */
	int held;		/* its newline, held back */
	int done;		/* the note is out */
};
const char *relay_note(int kind, const char *text);
				/* NULL when control/dkimreport is 0 */
void relay_start(struct relay *r, const char *note);
size_t relay_filter(struct relay *r, const char *in, size_t len, char *out);
void relay_run(const char *real, char **argv, const char *note);
				/* ends as it ends; returns if it cannot start */

/* wire.c: qmail-dkimc and qmail-dkimd, one request and one reply */
#define WIRE_MAX (128 * 1024)	/* the largest reply */
int wire_connect(const char *path, int seconds);	/* -1, or a socket */
struct stat;
int wire_listen(const char *path, struct stat *made);	/* -1, or a socket */
void wire_unlisten(const char *path, const struct stat *made);
int wire_timeout(int s, int seconds);
int wire_peer_ok(int s);	/* 1: the peer is our user or root */
int wire_ask(int s, int fd, const char *sender);
int wire_request(int s, int *fd, char *sender, size_t size);
int wire_reply(int s, const struct verdict *v);
int wire_answer(int s, struct verdict *v);	/* -1: sign it here */

/* sigcache.c: qmail-dkimd's signatures, kept for a queue file's next
 * delivery while nothing that decided them has changed */
struct stat;
struct timespec;
int sigcache_init(void);	/* qmail-dkimd, before its workers; -1 none */
void sigcache_note(const char *path);	/* a file the verdict is read from */
void sigcache_begin(void);	/* notes from here on, for one message */
int sigcache_claim(int fd, const struct stat *st,
    const struct timespec *began);	/* 1: held, sigcache_release it */
void sigcache_release(int fd);
int sigcache_find(const struct stat *st, off_t start, const char *sender,
    struct verdict *v);		/* 1: v is the kept verdict */
void sigcache_store(const struct stat *st, off_t start, const char *sender,
    const struct verdict *v, const struct timespec *began);

/* log.c: one syslog line per delivery */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void log_ready(void);		/* connect now, log later */

/* tool-key.c: qmail-dkim-tool openssl, the commands the scripts run */
int tool_genpkey(int argc, char **argv);
int tool_pkey(int argc, char **argv);
int tool_base64(int argc, char **argv);

/* tool-dns.c: qmail-dkim-tool dig, lookups printed as dig prints them */
int tool_dig(int argc, char **argv);

#endif
