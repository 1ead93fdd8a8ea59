// Placeholder: the real CLI replaces this file.
console.log('trapdoor: CLI not built yet');
