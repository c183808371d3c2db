/* SPDX-License-Identifier: MIT */
/*
 * gl_demo.exe: the demo scene for a person to look at, a colour-blended
 * triangle (red apex up, green bottom left, blue bottom right) on a dark
 * gradient, drawn on a 4.3 core context and presented with SwapBuffers.
 * demo.sh keeps it on screen (--hold-ms / --hold-file) and takes the
 * screenshot. Blended colours are not exact across GL implementations, so
 * the checks here (and demo.sh's) ask which channel dominates, not for
 * exact values.
 */
#include "wglapp.h"

#include <stdlib.h>

#define WIN_X 48
#define WIN_Y 48
#define WIN_W 400
#define WIN_H 300

static const char *VS = "#version 330 core\n"
			"in vec2 pos;\n"
			"in vec3 attr;\n"
			"out vec3 col;\n"
			"void main() { col = attr; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char *FS = "#version 330 core\n"
			"in vec3 col;\n"
			"out vec4 frag;\n"
			"void main() { frag = vec4(col, 1.0); }\n";

/* x, y, r, g, b */
static const float background[] = {
	-1, -1, 0.16f, 0.20f, 0.38f, 1, -1, 0.16f, 0.20f, 0.38f,
	-1, 1,  0.06f, 0.08f, 0.16f, 1, 1,  0.06f, 0.08f, 0.16f,
};
static const float triangle[] = {
	0.0f,   0.75f,  0.94f, 0.24f, 0.24f,
	-0.75f, -0.65f, 0.24f, 0.86f, 0.35f,
	0.75f,  -0.65f, 0.27f, 0.47f, 1.00f,
};

/* Channel c of the pixel at NDC (x, y) is the largest by margin. */
static void expect_dominant(const uint8_t *img, int w, int h, float x, float y, int c, int margin,
			    const char *what, char *why, size_t n)
{
	int px = (int)((x + 1) * 0.5f * w), py = (int)((y + 1) * 0.5f * h);
	const uint8_t *p = img + ((size_t)py * w + px) * 4;

	if (p[c] < p[(c + 1) % 3] + margin || p[c] < p[(c + 2) % 3] + margin)
		wa_why(why, n, "%s at (%d,%d) is %u,%u,%u: not mostly %s", what, px, py, p[0], p[1], p[2],
		       c == 0 ? "red" : c == 1 ? "green" : "blue");
}

int main(int argc, char **argv)
{
	struct wa_opts opts;
	struct wa_app app;
	struct wa_mesh bg, tri;
	char why[1024] = "";
	GLuint prog;
	uint8_t *img;

	wa_start();
	if (!wa_parse_opts(argc, argv, &opts))
		return 2;
	if (!wa_window(&app, "virgo demo", WIN_X, WIN_Y, WIN_W, WIN_H) || !wa_pixel_format(&app) ||
	    !wa_core_context(&app, 4, 3)) {
		wa_teardown(&app);
		return 1;
	}
	wa_info("GL_RENDERER %s", (const char *)glGetString(GL_RENDERER));
	wa_info("GL_VERSION  %s", (const char *)glGetString(GL_VERSION));
	prog = wa_program(VS, FS, why, sizeof(why));
	if (prog) {
		wa_mesh(&bg, background, 4, 2, 3);
		wa_mesh(&tri, triangle, 3, 2, 3);
		glViewport(0, 0, app.w, app.h);
		glClearColor(0, 0, 0, 1);
		glClear(GL_COLOR_BUFFER_BIT);
		glUseProgram(prog);
		glBindVertexArray(bg.vao);
		glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
		glBindVertexArray(tri.vao);
		glDrawArrays(GL_TRIANGLES, 0, 3);
		img = wa_read(app.w, app.h);
		if (img) {
			expect_dominant(img, app.w, app.h, 0.0f, 0.6f, 0, 64, "apex", why, sizeof(why));
			expect_dominant(img, app.w, app.h, -0.6f, -0.58f, 1, 64, "bottom-left", why, sizeof(why));
			expect_dominant(img, app.w, app.h, 0.6f, -0.58f, 2, 64, "bottom-right", why, sizeof(why));
			expect_dominant(img, app.w, app.h, -0.9f, 0.9f, 2, 10, "dark blue background", why, sizeof(why));
			free(img);
		}
		if (!SwapBuffers(app.dc))
			wa_why(why, sizeof(why), "SwapBuffers failed (error %lu)", GetLastError());
		glFinish();
		wa_mesh_free(&bg);
		wa_mesh_free(&tri);
		glUseProgram(0);
		glDeleteProgram(prog);
	}
	if (glGetError() != GL_NO_ERROR)
		wa_why(why, sizeof(why), "glGetError is not clean");
	wa_result("demo_frame", why);
	wa_hold(&app, &opts);
	wa_teardown(&app);
	return wa_failed() ? 1 : 0;
}
