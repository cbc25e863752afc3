// How presence looks: every availability has a colour AND an icon shape AND a text label.
import { h } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
// Distinct shapes, so colour is never the only signal.
const SHAPES = {
  Available: [['circle', { cx: 12, cy: 12, r: 10, fill: 'currentColor' }], ['path', { d: 'M7 12.5l3.2 3.2L17 9', fill: 'none', stroke: 'var(--panel)', 'stroke-width': 2.4, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }]],
  Busy: [['circle', { cx: 12, cy: 12, r: 10, fill: 'currentColor' }]],
  DoNotDisturb: [['circle', { cx: 12, cy: 12, r: 10, fill: 'currentColor' }], ['rect', { x: 6.5, y: 10.6, width: 11, height: 2.8, rx: 1.2, fill: 'var(--panel)' }]],
  Away: [['circle', { cx: 12, cy: 12, r: 9, fill: 'none', stroke: 'currentColor', 'stroke-width': 2.4 }], ['path', { d: 'M12 7v5.2l3.4 2', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-linecap': 'round' }]],
  BeRightBack: [['circle', { cx: 12, cy: 12, r: 10, fill: 'currentColor' }], ['path', { d: 'M12 7v5.2l3.4 2', fill: 'none', stroke: 'var(--panel)', 'stroke-width': 2.2, 'stroke-linecap': 'round' }]],
  OffWork: [['path', { d: 'M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z', fill: 'currentColor' }]],
  Offline: [['circle', { cx: 12, cy: 12, r: 9, fill: 'none', stroke: 'currentColor', 'stroke-width': 2.4 }], ['path', { d: 'M8.5 8.5l7 7M15.5 8.5l-7 7', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-linecap': 'round' }]],
  Unknown: [['circle', { cx: 12, cy: 12, r: 9, fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2, 'stroke-dasharray': '3 2.6' }], ['path', { d: 'M9.6 9.6a2.5 2.5 0 1 1 3.4 2.3c-.7.3-1 .8-1 1.5v.4M12 17h.01', fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round' }]],
};

export const LABELS = {
  Available: 'Available', Busy: 'Busy', DoNotDisturb: 'Do not disturb', Away: 'Away', BeRightBack: 'Be right back',
  OffWork: 'Off work', Offline: 'Offline', Unknown: 'Not shared',
};

export const ACTIVITIES = {
  InACall: 'In a call', InAConferenceCall: 'In a conference call', InAMeeting: 'In a meeting', Presenting: 'Presenting',
  Focusing: 'Focusing', OutOfOffice: 'Out of office', OnVacation: 'On vacation', Commuting: 'Commuting', Inactive: 'Inactive',
};

export const CONTACT_KINDS = {
  WorkPhone: 'Work phone', Mobile: 'Mobile', HomePhone: 'Home phone', Email: 'E-mail', Chat: 'Chat', Video: 'Video', Sip: 'SIP', Other: 'Other',
};

export function icon(availability) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [tag, attrs] of SHAPES[availability] || SHAPES.Unknown) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  return svg;
}

export function badge(availability) {
  const a = availability || 'Unknown';
  return h('span.badge', { dataset: { a } }, icon(a), h('span.label', {}, LABELS[a] || a));
}

export function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map(p => p[0].toUpperCase()).join('');
}

export function avatar(name, availability) {
  return h('span.avatar', { dataset: { a: availability || 'Unknown' }, 'aria-hidden': 'true' }, initials(name));
}

/** Location at the precision the watcher was given: only the fields that came through are shown. */
export function formatLocation(loc) {
  if (!loc) return null;
  const parts = [loc.room, loc.floor && `floor ${loc.floor}`, loc.building, loc.city, loc.country].filter(Boolean);
  if (loc.text) parts.unshift(loc.text);
  if (!parts.length && loc.latitude != null) parts.push(`${loc.latitude.toFixed(3)}, ${loc.longitude.toFixed(3)}`);
  return parts.length ? parts.join(', ') : null;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function relative(iso, now = Date.now()) {
  if (!iso) return null;
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(Math.round(s), 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400 * 2) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const sameDay = new Date().toDateString() === d.toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function activityText(a) { return a ? (ACTIVITIES[a] || a) : null; }
