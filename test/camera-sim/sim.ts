// The simulator's core is part of the built backend (the demo camera of `npm start`); tests import it from here too.
export * from '../../backend/dev/camera-sim/sim';
