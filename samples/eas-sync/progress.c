/*
 * eas-sync: progress.  On a terminal (stderr), one bar redrawn in place at
 * most ten times a second: items (of the estimate when the server gave one),
 * bytes, and both rates.  Elsewhere (a pipe, a log, a test), plain lines,
 * one per server response applied.  --quiet and --json turn the lines off;
 * --progress / --no-progress force the bar on or off.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

#define BAR_WIDTH 28

void progress_init(progress *p, app *a, const char *label)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->start_ms = now_ms();
	int tty = isatty(2);
	if (a->o.progress == 1)
		p->enabled = 1;
	else if (a->o.progress == 0 || a->o.quiet)
		p->enabled = 0;
	else
		p->enabled = tty;
	p->lines = !p->enabled && !a->o.quiet && !a->o.json && a->o.progress != 0;
}

static void draw(progress *p)
{
	uint64_t ms = now_ms() - p->start_ms;
	double s = ms ? (double)ms / 1000.0 : 0.001;
	char bytes[32], rate[32];
	format_bytes(bytes, sizeof bytes, p->bytes);
	format_bytes(rate, sizeof rate, (uint64_t)((double)p->bytes / s));
	char bar[BAR_WIDTH + 1];
	char count[64];
	if (p->total && p->items <= p->total) {
		size_t fill = (size_t)((double)p->items / (double)p->total * BAR_WIDTH);
		memset(bar, '#', fill);
		memset(bar + fill, '.', BAR_WIDTH - fill);
		bar[BAR_WIDTH] = '\0';
		snprintf(count, sizeof count, "%llu/%llu items", (unsigned long long)p->items,
			 (unsigned long long)p->total);
	} else {
		/* no estimate: a moving marker */
		memset(bar, '.', BAR_WIDTH);
		bar[(ms / 100u) % BAR_WIDTH] = '#';
		bar[BAR_WIDTH] = '\0';
		snprintf(count, sizeof count, "%llu items", (unsigned long long)p->items);
	}
	fprintf(stderr, "\r%s [%s] %s  %s  %.0f items/s  %s/s \033[K", p->label, bar, count, bytes,
		(double)p->items / s, rate);
	fflush(stderr);
	p->drawn = 1;
}

void progress_update(progress *p, uint64_t items, uint64_t bytes, int force)
{
	p->items = items;
	p->bytes = bytes;
	if (!p->enabled)
		return;
	uint64_t now = now_ms();
	if (!force && now - p->last_draw_ms < 100)
		return;
	p->last_draw_ms = now;
	draw(p);
}

void progress_line(progress *p, const char *fmt, ...)
{
	if (!p->lines)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void progress_finish(progress *p)
{
	if (p->enabled && p->drawn) {
		if (p->total && p->items < p->total)
			p->total = p->items; /* the estimate was high: end the bar full */
		draw(p);
		fputc('\n', stderr);
	}
	p->drawn = 0;
}
