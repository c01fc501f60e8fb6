/** Tailwind scans our templates and scripts; the output goes to static/dist/app.css. */
module.exports = {
  content: ["./templates/**/*.html", "./*/templates/**/*.html", "./static/js/**/*.js"],
  theme: { extend: {} },
  plugins: [require("@tailwindcss/typography")],
};
