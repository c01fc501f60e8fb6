/** Tailwind scans our templates and scripts; the output goes to static/dist/app.css. */
module.exports = {
  content: ["./templates/**/*.html", "./*/templates/**/*.html", "./static/js/**/*.js"],
  // `dark` on <html> (static/js/theme.js): the system's preference or the reader's choice.
  darkMode: "class",
  theme: { extend: {} },
  plugins: [require("@tailwindcss/typography")],
};
