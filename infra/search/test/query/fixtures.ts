/** Shared test corpus: 20 listing-like documents with deliberate relevance traps. */
import type { Mappings } from '../../src/engine/contracts';
import { QuerySearcher } from '../../src/query';

export const LISTING_MAPPINGS: Mappings = {
  properties: {
    title: { type: 'text', fields: { raw: { type: 'keyword' } } },
    description: { type: 'text' },
    category: { type: 'keyword' },
    priceCents: { type: 'long' },
    status: { type: 'keyword' },
    'location.city': { type: 'keyword' },
    publishedAt: { type: 'date' },
    featured: { type: 'boolean' },
    rating: { type: 'double' },
  },
};

export interface Listing {
  title: string;
  description: string;
  category: string;
  priceCents: number;
  status: string;
  location: { city: string };
  publishedAt: string;
  featured: boolean;
  rating?: number;
}

export const LISTINGS: Array<[string, Listing]> = [
  [
    'l1',
    {
      title: 'Red road bike',
      description: 'Lightweight aluminium road bike, red frame, 54cm.',
      category: 'bikes',
      priceCents: 45000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-03-01T10:00:00Z',
      featured: true,
      rating: 4.5,
    },
  ],
  [
    'l2',
    {
      title: 'Blue road bike',
      description: 'Carbon road bike in blue, barely used.',
      category: 'bikes',
      priceCents: 120000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-03-02T10:00:00Z',
      featured: false,
      rating: 4.8,
    },
  ],
  [
    'l3',
    {
      title: 'Red city bike',
      description: 'Comfortable city bike with basket. Red paint, some scratches.',
      category: 'bikes',
      priceCents: 15000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-02-15T09:30:00Z',
      featured: false,
      rating: 3.9,
    },
  ],
  [
    'l4',
    {
      title: 'Mountain bike',
      description: 'Full suspension mountain bike, 29 inch wheels. Not a road bike.',
      category: 'bikes',
      priceCents: 80000,
      status: 'sold',
      location: { city: 'Rotterdam' },
      publishedAt: '2024-01-20T12:00:00Z',
      featured: false,
    },
  ],
  [
    'l5',
    {
      title: 'Kids bike red',
      description: 'Small red bike for children aged 4 to 6.',
      category: 'bikes',
      priceCents: 5000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-03-05T08:00:00Z',
      featured: false,
      rating: 4.1,
    },
  ],
  [
    'l6',
    {
      title: 'Bike helmet',
      description: 'Red helmet for road cycling, size M.',
      category: 'accessories',
      priceCents: 3500,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-03-03T14:00:00Z',
      featured: false,
      rating: 4.0,
    },
  ],
  [
    'l7',
    {
      title: 'Apartment in Amsterdam centre',
      description: 'Two bedroom apartment near the canals, Amsterdam.',
      category: 'housing',
      priceCents: 250000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-02-28T11:00:00Z',
      featured: true,
      rating: 4.7,
    },
  ],
  [
    'l8',
    {
      title: 'Studio apartment',
      description: 'Compact studio in Amsterdam Noord, furnished.',
      category: 'housing',
      priceCents: 140000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-03-04T16:00:00Z',
      featured: false,
    },
  ],
  [
    'l9',
    {
      title: 'Family house Utrecht',
      description: 'Spacious house with garden, close to Amsterdam by train.',
      category: 'housing',
      priceCents: 320000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-01-10T10:00:00Z',
      featured: false,
      rating: 4.2,
    },
  ],
  [
    'l10',
    {
      title: 'Apartment Rotterdam',
      description: 'Modern apartment with a view of the Maas.',
      category: 'housing',
      priceCents: 180000,
      status: 'reserved',
      location: { city: 'Rotterdam' },
      publishedAt: '2024-02-01T10:00:00Z',
      featured: false,
    },
  ],
  [
    'l11',
    {
      title: 'Red sofa',
      description: 'Three seat red sofa, velvet.',
      category: 'furniture',
      priceCents: 30000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-02-20T10:00:00Z',
      featured: false,
      rating: 3.5,
    },
  ],
  [
    'l12',
    {
      title: 'Oak dining table',
      description: 'Solid oak table for six people.',
      category: 'furniture',
      priceCents: 60000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-02-22T10:00:00Z',
      featured: true,
    },
  ],
  [
    'l13',
    {
      title: 'Office chair',
      description: 'Ergonomic office chair, black.',
      category: 'furniture',
      priceCents: 12000,
      status: 'sold',
      location: { city: 'Rotterdam' },
      publishedAt: '2024-01-05T10:00:00Z',
      featured: false,
      rating: 4.4,
    },
  ],
  [
    'l14',
    {
      title: 'Road bike wheels',
      description: 'Pair of carbon wheels for a road bike.',
      category: 'accessories',
      priceCents: 40000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-03-06T10:00:00Z',
      featured: false,
    },
  ],
  [
    'l15',
    {
      title: 'Bike lock',
      description: 'Heavy chain lock, keeps your bike safe in Amsterdam.',
      category: 'accessories',
      priceCents: 4500,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-03-07T10:00:00Z',
      featured: false,
      rating: 4.6,
    },
  ],
  [
    'l16',
    {
      title: 'Cargo bike',
      description: 'Electric cargo bike for kids and groceries.',
      category: 'bikes',
      priceCents: 200000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-02-10T10:00:00Z',
      featured: true,
      rating: 4.9,
    },
  ],
  [
    'l17',
    {
      title: 'Vintage lamp',
      description: 'Brass lamp from the seventies.',
      category: 'furniture',
      priceCents: 8000,
      status: 'active',
      location: { city: 'Rotterdam' },
      publishedAt: '2024-01-25T10:00:00Z',
      featured: false,
    },
  ],
  [
    'l18',
    {
      title: 'Room in shared apartment',
      description: 'Room available in Amsterdam Oost apartment, shared kitchen.',
      category: 'housing',
      priceCents: 75000,
      status: 'active',
      location: { city: 'Amsterdam' },
      publishedAt: '2024-03-08T10:00:00Z',
      featured: false,
    },
  ],
  [
    'l19',
    {
      title: 'Café table',
      description: 'Small round café table, marble top. Ideal für kleine Räume.',
      category: 'furniture',
      priceCents: 9000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-03-09T10:00:00Z',
      featured: false,
    },
  ],
  [
    'l20',
    {
      title: 'Road bike shoes',
      description: 'Cycling shoes with cleats, size 43.',
      category: 'accessories',
      priceCents: 6000,
      status: 'active',
      location: { city: 'Utrecht' },
      publishedAt: '2024-03-10T10:00:00Z',
      featured: false,
    },
  ],
];

export function listingSearcher(now = Date.parse('2024-03-10T12:00:00Z')): QuerySearcher {
  const s = new QuerySearcher(LISTING_MAPPINGS, { now: () => now });
  for (const [id, doc] of LISTINGS) s.upsert(id, doc as unknown as Record<string, unknown>);
  return s;
}

export function ids(result: { hits: Array<{ id: string }> }): string[] {
  return result.hits.map((h) => h.id);
}
