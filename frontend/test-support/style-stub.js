// CSS imports resolve to nothing under jest (jsdom does not need the styles).
module.exports = {};
